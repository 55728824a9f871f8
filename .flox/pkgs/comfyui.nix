# ComfyUI, the node-based diffusion UI, built from its pinned GitHub release.
# Custom Python packages from .flox/pkgs/ are passed in as arguments; everything else comes
# from nixpkgs' python3.pkgs. Update with `deno task bump-comfyui`.
{ lib
, python3
, fetchFromGitHub
, makeWrapper
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
}:

python3.pkgs.buildPythonApplication rec {
  pname = "comfyui";
  version = "0.3.75";
  format = "other";

  src = fetchFromGitHub {
    owner = "comfyanonymous";
    repo = "ComfyUI";
    rev = "v${version}";
    hash = "sha256-T6O6UzcIcBsLWGHmgRnQB/EgsM5Mw2OTmMRq+BBtwsE=";
  };

  nativeBuildInputs = [ makeWrapper ];

  propagatedBuildInputs = with python3.pkgs; [
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
  doCheck = false;

  installPhase = ''
    runHook preInstall
    mkdir -p $out/share/comfyui $out/bin
    cp -r . $out/share/comfyui
    makeWrapper ${python3.interpreter} $out/bin/comfyui \
      --add-flags "$out/share/comfyui/main.py" \
      --prefix PYTHONPATH : "$PYTHONPATH"
    runHook postInstall
  '';

  pythonImportsCheck = [ ];

  meta = with lib; {
    description = "The most powerful and modular diffusion model GUI, API and backend";
    homepage = "https://github.com/comfyanonymous/ComfyUI";
    license = licenses.gpl3Only;
    platforms = platforms.linux ++ platforms.darwin;
    mainProgram = "comfyui";
  };
}
