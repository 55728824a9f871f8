// Realistic .nix package files for the Nix library, verify and fix-hash tests: the shape
// new-package generates, in the seed's leading-comma style and in nixfmt's trailing-comma style.

/** A custom package as new-package writes it (vendored wheel, platform block). */
export const PACKAGE = `{ lib
, python3
, comfyui-workflow-templates-core   # custom packages from .flox/pkgs are function arguments
}:

python3.pkgs.buildPythonPackage rec {
  pname = "foo";
  version = "1.2.3";
  format = "wheel";
  src = ../../.flox/sources/foo-1.2.3-py3-none-any.whl;
  nativeBuildInputs = with python3.pkgs; [ setuptools wheel ];
  propagatedBuildInputs = with python3.pkgs; [
    numpy
    comfyui-workflow-templates-core
  ] ++ lib.optionals (lib.elem python3.stdenv.hostPlatform.system [ "x86_64-linux" "aarch64-linux" ]) [
    triton
  ];
  doCheck = false;
  pythonImportsCheck = [ "foo" ];
  meta = with lib; { description = "Foo for ComfyUI"; homepage = "https://example.org/foo"; license = licenses.mit; platforms = platforms.all; };
}
`;

/** The same kind of package fetched from PyPI, in nixfmt (RFC 166) style with 4-space indent. */
export const PYPI_PACKAGE = `{
    lib,
    python3,
    fetchPypi, # the sdist
}:

python3.pkgs.buildPythonPackage rec {
    pname = "spandrel";
    version = "0.4.0";
    pyproject = true;

    src = fetchPypi {
        inherit pname version;
        hash = lib.fakeHash;
    };

    build-system = with python3.pkgs; [ setuptools ];

    dependencies = with python3.pkgs; [
        torch
        torchvision
        safetensors
        numpy
        einops
        typing-extensions
    ];

    pythonImportsCheck = [ "spandrel" ];

    meta = {
        description = "Give your project support for a variety of PyTorch model architectures";
        homepage = "https://github.com/chaiNNer-org/spandrel";
        license = lib.licenses.mit;
    };
}
`;

/** A package built from a GitHub tag, with a legacy sha256 and a one-line argument set. */
export const GITHUB_PACKAGE = `{ lib, python3, fetchFromGitHub }:

python3.pkgs.buildPythonPackage rec {
  pname = "nunchaku";
  version = "0.16.1";
  format = "setuptools";

  src = fetchFromGitHub {
    owner = "mit-han-lab";
    repo = "nunchaku";
    rev = "v\${version}";
    sha256 = "0000000000000000000000000000000000000000000000000000";
  };

  propagatedBuildInputs = with python3.pkgs; [ torch diffusers ];

  pythonImportsCheck = [ "nunchaku" ];

  meta = with lib; {
    license = licenses.asl20;
  };
}
`;
