# ComfyUI with a CUDA torch, for Linux machines with an NVIDIA GPU: `flox build comfyui-cuda`.
# Not a second recipe: comfyui.nix and every other package file of .flox/pkgs are called again
# in a scope whose python3 has CUDA torch, torchvision and torchaudio, so the whole closure
# holds one torch and a package added, removed or bumped in .flox/pkgs needs no edit here.
#
# Which torch (docs/flox.md has the reasons at length):
#   x86_64-linux   nixpkgs' torch-bin, torchvision-bin, torchaudio-bin: PyTorch's own CUDA 12
#                  wheels, patched with autoPatchelf; minutes to build, no compiler. They are
#                  unfree (CUDA libraries, unfreeRedistributable), which NEF allows, and not on
#                  cache.nixos.org (hydraPlatforms = [ ]): every builder downloads ~3 GB.
#   aarch64-linux  torch.override { cudaSupport = true; }: nixpkgs' aarch64-linux torch-bin is
#                  a "+cpu" wheel, so torch is compiled with CUDA (hours, tens of GB of RAM);
#                  torchvision and torchaudio follow torch's cudaSupport.
# Other systems: not offered (meta.platforms); asking for it there is nixpkgs' plain "not
# available on the requested hostPlatform" error.
{ lib
, stdenv
, python3
, newScope
}:

let
  system = stdenv.hostPlatform.system;
  cudaSystems = [ "x86_64-linux" "aarch64-linux" ];

  # Variant files of comfyui.nix, which are not packages of the set.
  variants = [ "comfyui-cuda" ];

  cudaTorch = final: prev:
    if system == "x86_64-linux" then {
      torch = final.torch-bin;
      torchvision = final.torchvision-bin;
      torchaudio = final.torchaudio-bin;
    } else {
      # prev: final.torchWithCuda is final.torch.override, which would be this attribute
      torch = prev.torch.override { cudaSupport = true; };
    };
  python =
    if lib.elem system cudaSystems
    then python3.override { self = python; packageOverrides = cudaTorch; }
    else python3;

  # The package files as Flox finds them (NEF's dirToAttrs): <name>.nix and <name>/default.nix.
  entries = builtins.readDir ./.;
  packages = builtins.concatMap
    (entry:
      let
        type = entries.${entry};
        name = lib.removeSuffix ".nix" entry;
      in
      if type == "regular" && lib.hasSuffix ".nix" entry && !(lib.elem name variants)
      then [{ inherit name; path = ./. + "/${entry}"; }]
      else if type == "directory" && builtins.pathExists (./. + "/${entry}/default.nix")
      then [{ name = entry; path = ./. + "/${entry}"; }]
      else [ ])
    (builtins.attrNames entries);

  scope = lib.makeScope newScope (self:
    { python3 = python; python3Packages = python.pkgs; }
    // builtins.listToAttrs (map
      (p: {
        inherit (p) name;
        value = self.newScope
          {
            ${p.name} = throw "${toString p.path} asks for its own name ${p.name}, which comfyui-cuda.nix cannot give it";
          }
          p.path
          { };
      })
      packages));
in
scope.comfyui.overridePythonAttrs (old: {
  pname = "comfyui-cuda";
  passthru = old.passthru // { python3 = python; };
  meta = old.meta // {
    description = "${old.meta.description} (CUDA build)";
    platforms = cudaSystems;
  };
})
