// Which distribution provides an import name. Most distributions are imported under their own
// name (`einops`); these are the well-known exceptions, checked before that guess. A table.
import { normalizeName } from "../python/names.ts";

/** Import name (dotted prefixes allowed) → PyPI distribution. */
const MODULE_DISTRIBUTIONS: Readonly<Record<string, string>> = {
  cv2: "opencv-python",
  PIL: "pillow",
  yaml: "pyyaml",
  sklearn: "scikit-learn",
  skimage: "scikit-image",
  "google.protobuf": "protobuf",
  bs4: "beautifulsoup4",
  attr: "attrs",
  dateutil: "python-dateutil",
  dotenv: "python-dotenv",
  multipart: "python-multipart",
  magic: "python-magic",
  jwt: "pyjwt",
  OpenSSL: "pyopenssl",
  Crypto: "pycryptodome",
  serial: "pyserial",
  usb: "pyusb",
  zmq: "pyzmq",
  git: "gitpython",
  fitz: "pymupdf",
  docx: "python-docx",
  pptx: "python-pptx",
  "zope.interface": "zope-interface",
  huggingface_hub: "huggingface-hub",
  safetensors: "safetensors",
  onnxruntime: "onnxruntime",
  kornia_rs: "kornia-rs",
  spandrel_extra_arches: "spandrel-extra-arches",
  sentencepiece: "sentencepiece",
  websocket: "websocket-client",
  typing_extensions: "typing-extensions",
  pkg_resources: "setuptools",
};

/**
 * The distribution that provides `module`: the table (longest dotted prefix first), else the
 * top-level name as a PyPI name (`torchsde` → torchsde, `pydantic_settings` → pydantic-settings).
 */
export function distributionOf(module: string): {
  dist: string;
  known: boolean;
} {
  const parts = module.split(".");
  for (let n = parts.length; n > 0; n--) {
    const key = parts.slice(0, n).join(".");
    if (Object.hasOwn(MODULE_DISTRIBUTIONS, key)) {
      return { dist: MODULE_DISTRIBUTIONS[key]!, known: true };
    }
  }
  return { dist: normalizeName(parts[0]!), known: false };
}
