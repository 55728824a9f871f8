# ComfyUI, the node-based diffusion UI, built from its pinned GitHub release.
# Custom Python packages from .flox/pkgs/ are passed in as arguments; everything else comes
# from nixpkgs' python3.pkgs. Update with `deno task bump-comfyui`: this file is the one place
# that pins ComfyUI; comfyui-cuda.nix builds it again with a CUDA torch.
#
# It runs on any machine it builds for: .flox/patches/comfyui-cpu-fallback.patch makes ComfyUI
# fall back to the CPU (and say so in one line) when torch cannot reach a GPU; Apple silicon
# uses MPS as upstream does.
#
# The store is read-only, and ComfyUI keeps models/, custom_nodes/, input/, output/, temp/ and
# user/ (with its database) next to main.py unless told otherwise: `comfyui` passes ComfyUI's
# own --base-directory and --database-url, under $COMFYUI_BASE_DIR when set, else
# $XDG_DATA_HOME/comfyui (~/.local/share/comfyui), created on first start. Flags given on the
# command line come after these and win. The interpreter is a closed python3.withPackages
# environment and PYTHONPATH/NIX_PYTHONPATH are cleared, so ComfyUI's subprocesses inherit
# nothing of it.
{ lib
, stdenv
, python3
, fetchFromGitHub
, makeWrapper
, writeShellScript
, writeText
, linkFarm
, comfyui-frontend-package
, comfyui-workflow-templates-core
, comfyui-workflow-templates-media-api
, comfyui-workflow-templates-media-image
, comfyui-workflow-templates-media-other
, comfyui-workflow-templates-media-video
, comfyui-workflow-templates
, comfyui-embedded-docs
, spandrel
, controlnet-aux
, comfyui-node-comfyui-custom-scripts
, comfyui-node-comfyui-animatediff-evolved
}:

let
  # Node packs, one `.flox/pkgs/comfyui-node-<id>.nix` each, written and wired by
  # `deno task add-node`. Each is a folder of the pack's files with `passthru.comfyuiNodeName`
  # (its folder name under custom_nodes/) and `passthru.pythonDependencies` (its requirements,
  # taken from the same python3). ComfyUI loads them from the store through the
  # extra_model_paths.yaml below; the user's own custom_nodes/ keeps working beside them.
  customNodes = [
    comfyui-node-comfyui-custom-scripts
    comfyui-node-comfyui-animatediff-evolved
  ];
in
python3.pkgs.buildPythonApplication rec {
  pname = "comfyui";
  version = "0.3.75";
  pyproject = false;

  # Comfy-Org is the repository's owner today (GitHub redirects comfyanonymous/ComfyUI); the
  # archive, and so the hash, is the same (tests/package_set/main_owner_test.ts).
  src = fetchFromGitHub {
    owner = "Comfy-Org";
    repo = "ComfyUI";
    tag = "v${version}";
    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  };

  # Without it ComfyUI stops at start-up on a machine without a usable GPU (see the file).
  patches = [ ../patches/comfyui-cpu-fallback.patch ];

  nativeBuildInputs = [ makeWrapper ];

  dependencies = with python3.pkgs; [
    # requirements.txt
    torch
    torchsde
    torchvision
    torchaudio
    numpy
    einops
    transformers
    tokenizers
    sentencepiece
    safetensors
    aiohttp
    yarl
    pyyaml
    pillow
    scipy
    tqdm
    psutil
    alembic
    sqlalchemy
    av
    # non-essential dependencies
    kornia
    pydantic
    pydantic-settings
    comfyui-frontend-package
    comfyui-workflow-templates-core
    comfyui-workflow-templates-media-api
    comfyui-workflow-templates-media-image
    comfyui-workflow-templates-media-other
    comfyui-workflow-templates-media-video
    comfyui-workflow-templates
    comfyui-embedded-docs
    spandrel
    controlnet-aux
  ];

  dontBuild = true;
  # The launcher below sets the interpreter up itself; wrapPythonPrograms would wrap it again.
  dontWrapPythonPrograms = true;

  installPhase = ''
    runHook preInstall
    mkdir -p $out/share/comfyui $out/bin
    cp -r . $out/share/comfyui
    makeWrapper ${passthru.launcher} $out/bin/comfyui \
      --add-flags "$out/share/comfyui/main.py"
    runHook postInstall
  '';

  # The install check (mk-python-derivation runs checkPhase as installCheckPhase when doCheck):
  # pip resolves requirements.txt offline against the closed environment, so the build fails
  # when a nixpkgs version does not satisfy a specifier; then the installed `comfyui` runs
  # ComfyUI's start-up test exactly as users start it (no --cpu: the build machine has no GPU,
  # so this fails if the CPU fallback breaks) with share/comfyui read-only, as in the store.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    PYTHONPATH=${passthru.pythonEnv}/${python3.sitePackages} \
      ${python3.pkgs.pip}/bin/pip install --break-system-packages --dry-run --no-index \
      -r requirements.txt
    export HOME="$(mktemp -d)" XDG_DATA_HOME="$(mktemp -d)" PYTHONDONTWRITEBYTECODE=1
    unset COMFYUI_BASE_DIR
    chmod -R a-w $out/share/comfyui
    $out/bin/comfyui --help > /dev/null
    $out/bin/comfyui --quick-test-for-ci > quick-test.log 2>&1 \
      || { cat quick-test.log; exit 1; }
    cat quick-test.log
    if grep -q "Failed to initialize database" quick-test.log; then exit 1; fi
  '' + lib.optionalString stdenv.hostPlatform.isLinux ''
    grep -q "running on the CPU" quick-test.log
  '' + ''
    test -d "$XDG_DATA_HOME/comfyui/user"
    chmod -R u+w $out/share/comfyui
    runHook postCheck
  '';

  pythonImportsCheck = [ ];

  passthru = {
    # ComfyUI's dependencies and nothing else: the interpreter the launcher runs (it names the
    # dependency list above; a rename of that list renames it here too).
    pythonEnv = python3.withPackages (_: dependencies
      ++ lib.concatMap (node: node.pythonDependencies) customNodes);
    inherit customNodes;
    # ComfyUI adds every folder under a `custom_nodes` key to its search path (utils/extra_config.py).
    customNodesConfig = writeText "comfyui-custom-nodes.yaml" ''
      comfyui_nix:
        custom_nodes: ${linkFarm "comfyui-custom-nodes"
          (map (node: { name = node.comfyuiNodeName; path = node; }) customNodes)}
    '';
    # Run as `launcher MAIN.PY [ComfyUI flags]` (the wrapper in $out/bin adds main.py).
    launcher = writeShellScript "comfyui-launcher" ''
      set -eu
      main=$1
      shift
      if [ -n "''${COMFYUI_BASE_DIR:-}" ]; then
        base=$COMFYUI_BASE_DIR
      else
        base=''${XDG_DATA_HOME:-''${HOME:?set COMFYUI_BASE_DIR, XDG_DATA_HOME or HOME}/.local/share}/comfyui
      fi
      # A --base-directory on the command line wins (argparse keeps the last): follow it, so
      # the database goes with it. argparse also takes any unambiguous prefix of it, down to
      # --ba (--b is shared with --bf16-*), with the value next or after "=".
      next=
      for arg in "$@"; do
        if [ -n "$next" ]; then
          base=$arg
          next=
          continue
        fi
        [ "$arg" = -- ] && break
        name=''${arg%%=*}
        if [ ''${#name} -ge 4 ]; then
          case --base-directory in
            "$name"*)
              if [ "$name" = "$arg" ]; then next=1; else base=''${arg#*=}; fi
              ;;
          esac
        fi
      done
      case $base in
        /*) ;;
        *) base=$PWD/$base ;;
      esac
      # ComfyUI lists custom_nodes/ without checking that it exists; user/ holds the database.
      mkdir -p "$base/user" "$base/custom_nodes"
      # ComfyUI hands --database-url unescaped to SQLAlchemy (which ends the path at "?") and
      # to alembic's config (where "%" is interpolation), and splits it at "///" itself: a
      # base directory with any character beyond these reaches its database through a link
      # of a plain name instead.
      db=$base/user
      case $db in
        *[!A-Za-z0-9/._+,@:=~-]*)
          links=''${XDG_STATE_HOME:-''${HOME:?set XDG_STATE_HOME or HOME (the database link of a base directory with special characters)}/.local/state}/comfyui/databases
          link=$links/$(printf '%s' "$db" | cksum | cut -d ' ' -f 1)
          case $link in
            *[!A-Za-z0-9/._+,@:=~-]*)
              echo "comfyui: error: $link cannot be written in a database URL either: pass --database-url sqlite:///PATH" >&2
              exit 1
              ;;
          esac
          mkdir -p "$links"
          ln -sfn "$db" "$link"
          db=$link
          ;;
      esac
      # The user's own extra_model_paths.yaml (ComfyUI reads only the one next to main.py, in
      # the store, unless told).
      if [ -f "$base/extra_model_paths.yaml" ]; then
        set -- --extra-model-paths-config "$base/extra_model_paths.yaml" "$@"
      fi
      unset PYTHONPATH NIX_PYTHONPATH
      exec ${passthru.pythonEnv}/bin/python3 -s "$main" \
        --base-directory "$base" \
        --database-url "sqlite:///$db/comfyui.db" \
        ${lib.optionalString (customNodes != [ ]) "--extra-model-paths-config ${passthru.customNodesConfig}"} \
        "$@"
    '';
  };

  meta = with lib; {
    description = "Modular diffusion model GUI, API and backend with a graph and nodes interface";
    homepage = "https://github.com/Comfy-Org/ComfyUI";
    changelog = "https://github.com/Comfy-Org/ComfyUI/releases/tag/v${version}";
    license = licenses.gpl3Only;
    mainProgram = "comfyui";
  };
}
