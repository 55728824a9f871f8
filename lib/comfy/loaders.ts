// Loader nodes of ComfyUI core and the models folder each reads from (ComfyUI nodes.py and
// comfy_extras: the folder_paths name each loader's INPUT_TYPES lists). Used to place a model
// that a workflow names only in `widgets_values`.

const LOADER_DIRECTORIES: Record<string, string> = {
  CheckpointLoaderSimple: "checkpoints",
  CheckpointLoader: "checkpoints",
  ImageOnlyCheckpointLoader: "checkpoints",
  unCLIPCheckpointLoader: "checkpoints",
  VAELoader: "vae",
  LoraLoader: "loras",
  LoraLoaderModelOnly: "loras",
  CLIPLoader: "text_encoders",
  DualCLIPLoader: "text_encoders",
  TripleCLIPLoader: "text_encoders",
  QuadrupleCLIPLoader: "text_encoders",
  UNETLoader: "diffusion_models",
  CLIPVisionLoader: "clip_vision",
  ControlNetLoader: "controlnet",
  DiffControlNetLoader: "controlnet",
  UpscaleModelLoader: "upscale_models",
  StyleModelLoader: "style_models",
  GLIGENLoader: "gligen",
  HypernetworkLoader: "hypernetworks",
  PhotoMakerLoader: "photomaker",
  ModelPatchLoader: "model_patches",
  AudioEncoderLoader: "audio_encoders",
  LatentUpscaleModelLoader: "latent_upscale_models",
};

/** File extensions of model weights (ComfyUI's folder_paths.supported_pt_extensions, plus .gguf/.onnx). */
const MODEL_FILE = /\.(safetensors|sft|ckpt|pt|pt2|pth|bin|pkl|gguf|onnx)$/i;

/** The models folder a core loader node type reads from, or undefined. */
export function loaderDirectory(nodeType: string): string | undefined {
  return Object.hasOwn(LOADER_DIRECTORIES, nodeType)
    ? LOADER_DIRECTORIES[nodeType]
    : undefined;
}

/** True when a widget value looks like a model file name. */
export function isModelFileName(value: unknown): value is string {
  return typeof value === "string" && MODEL_FILE.test(value.trim());
}

/** The file name part of a widget value (ComfyUI allows "sub\\dir/name.safetensors"). */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}
