# A stand-in for nixpkgs, for evaluating .flox/pkgs/*.nix with real `nix-instantiate --eval`
# where no nixpkgs can be had (tests/nix_eval_test.ts). It calls the package files the way
# Flox does (flox/flox package-builder/nef: every file under the directory becomes an
# attribute of an overlay over nixpkgs, called with callPackage, so all of them are visible to
# each other by file name, and a file asking for its own name gets nixpkgs' attribute), and
# enforces what nixpkgs enforces at evaluation time:
#   - mk-python-derivation.nix: `pyproject` and `format` are mutually exclusive, one of them is
#     set ("does not configure a `format`"), `disabled` throws, dependencies built for another
#     interpreter throw; a `format` other than "wheel" is deprecated (the Python manual:
#     "As all other formats are deprecated, you are recommended to set [pyproject] to true"),
#     reported, and an error with `strictFormats`;
#   - fetchFromGitHub: exactly one of `rev` and `tag`, and a hash;
#   - check-meta.nix: meta attribute types, and the package is available on `system`;
#   - the `derivation` builtin: every attribute that reaches it coerces to a string;
#   - callPackage: a required argument nothing provides throws.
# Plus two checks nixpkgs only makes at build time, cheap to make here: a wheel `src` needs
# format = "wheel" (and only a wheel may have it), and python3.withPackages takes Python
# modules only (nixpkgs drops anything else silently).
{ system
, pkgsDir
, pythonVersion
  # python3Packages attribute -> version (the offline index, nixpkgs-index.json)
, pythonPackages
  # the lib.licenses attribute names
, licenseNames
, strictFormats ? false
}:
let
  inherit (builtins)
    attrNames concatStringsSep elem filter functionArgs hasAttr head intersectAttrs isAttrs
    isBool isFunction isList isPath isString length listToAttrs mapAttrs match readDir
    removeAttrs stringLength substring toJSON typeOf;

  fail = where: msg: throw "${where}: ${msg}";

  lib = {
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    inherit elem concatStringsSep;
    concatMap = f: l: builtins.concatMap f l;
    hasSuffix = suffix: s:
      let n = stringLength s; m = stringLength suffix;
      in n >= m && substring (n - m) m s == suffix;
    makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
    getExe = d: "${d}/bin/${d.meta.mainProgram or d.pname or d.name}";
    licenses = listToAttrs (map
      (n: { name = n; value = { shortName = n; spdxId = n; free = true; }; })
      licenseNames);
    platforms = rec {
      linux = [ "aarch64-linux" "armv7l-linux" "i686-linux" "riscv64-linux" "x86_64-linux" ];
      darwin = [ "aarch64-darwin" "x86_64-darwin" ];
      unix = linux ++ darwin;
      all = unix;
    };
    maintainers = { };
    versionAtLeast = a: b: builtins.compareVersions a b >= 0;
    versionOlder = a: b: builtins.compareVersions a b < 0;
  };

  isDarwin = match ".*-darwin" system != null;
  hostPlatform = { inherit system isDarwin; isLinux = !isDarwin; };

  # A derivation as far as evaluation goes: a name, an output path, its attributes.
  mkDrv = name: attrs: attrs // {
    type = "derivation";
    inherit name system;
    outPath = "/nix/store/${substring 0 32 (builtins.hashString "sha256" "${system}:${name}")}-${name}";
  };

  # What the `derivation` builtin does to an attribute: coerce it to a string, or throw.
  toDrvString = where: attr: v:
    if isString v then v
    else if isBool v then (if v then "1" else "")
    else if v == null then ""
    else if isPath v then toString v
    else if isList v then concatStringsSep " " (map (toDrvString where attr) v)
    else if isAttrs v && v ? outPath then v.outPath
    else if isAttrs v || isFunction v then
      fail where "cannot coerce the ${typeOf v} in `${attr}` to a string (a derivation attribute)"
    else toString v;

  drvEnv = where: attrs:
    mapAttrs (toDrvString where) (removeAttrs attrs [ "passthru" "meta" ]);

  # check-meta.nix: the types of the common meta attributes, and availability on `system`.
  checkMeta = where: meta:
    let
      str = n: !(meta ? ${n}) || isString meta.${n};
      strs = n: !(meta ? ${n}) || isString meta.${n} || (isList meta.${n} && builtins.all isString meta.${n});
      license = l: isAttrs l && l ? shortName;
      licenseOk = !(meta ? license) || license meta.license
        || (isList meta.license && builtins.all license meta.license);
      platformsOk = isList meta.platforms && builtins.all (p: isString p || isAttrs p) meta.platforms;
      available = elem system meta.platforms && !(elem system (meta.badPlatforms or [ ]));
    in
    if !(str "description" && str "longDescription" && str "mainProgram" && str "changelog") then
      fail where "meta.description, longDescription, mainProgram and changelog must be strings"
    else if !(strs "homepage") then fail where "meta.homepage must be a string or a list of strings"
    else if !licenseOk then fail where "meta.license must be a lib.licenses value or a list of them"
    else if !platformsOk then fail where "meta.platforms must be a list of systems"
    else if !available then
      fail where "is not available on the requested hostPlatform ${system} (meta.platforms)"
    else meta;

  python3 = mkDrv "python3-${pythonVersion}" {
    pname = "python3";
    version = pythonVersion;
    inherit pythonVersion;
    executable = "python${majorMinor}";
    sitePackages = "lib/python${majorMinor}/site-packages";
    interpreter = "${python3.outPath}/bin/python${majorMinor}";
    meta = { platforms = lib.platforms.unix; mainProgram = "python3"; };
    stdenv = { inherit hostPlatform; buildPlatform = hostPlatform; shell = "/stub/bin/bash"; };
    pkgs = modules // {
      # pip is part of every nixpkgs python3Packages (the index lists what packages use)
      pip = modules.pip or (module "pip" "0");
      buildPythonPackage = mkPythonDerivation { application = false; };
      buildPythonApplication = mkPythonDerivation { application = true; };
      toPythonModule = d: d // { pythonModule = python3; };
    };
    withPackages = f:
      let
        chosen = f python3.pkgs;
        checked = map
          (d:
            if isAttrs d && (d.pythonModule or false) != false
              && d.pythonModule.outPath == python3.outPath
            then d
            else fail "python3.withPackages"
              "${d.name or (typeOf d)} is not a Python module of this interpreter (nixpkgs would drop it silently)")
          chosen;
      in
      builtins.foldl' (acc: d: builtins.seq d acc)
        (mkDrv "python3-${pythonVersion}-env" { modules = map (d: d.pname or d.name) checked; })
        checked;
  };
  majorMinor = concatStringsSep "." (builtins.genList
    (i: builtins.elemAt (builtins.splitVersion pythonVersion) i) 2);

  module = pname: version: mkDrv "python${majorMinor}-${pname}-${version}" {
    inherit pname version;
    pythonModule = python3;
  };
  modules = mapAttrs module pythonPackages;

  knownFormats = [ "setuptools" "wheel" "pyproject" "egg" "other" ];

  srcName = src:
    if isPath src || isString src then baseNameOf (toString src)
    else src.name or "";

  # mk-python-derivation.nix, as far as evaluation goes.
  mkPythonDerivation = { application }: attrs:
    let
      name = "${attrs.pname or (throw "buildPythonPackage: no pname")}-${attrs.version or (throw "${attrs.pname}: no version")}";
      where = name;
      pyproject = attrs.pyproject or null;
      format = attrs.format or null;
      format' =
        if pyproject != null && !isBool pyproject then fail where "pyproject must be true or false"
        else if format != null && !(isString format && elem format knownFormats) then
          fail where "format must be one of ${toJSON knownFormats}, not ${toJSON format}"
        else if pyproject != null && format != null then
          fail where "pyproject and format are mutually exclusive (mk-python-derivation.nix asserts (pyproject != null) -> (format == null))"
        else if pyproject != null then (if pyproject then "pyproject" else "other")
        else if format != null then format
        else throw "${name} does not configure a `format`. To build with setuptools as before, set `pyproject = true` and `build-system = [ setuptools ]`.";
      deprecated = format != null && format != "wheel";
      warnings = lib.optional deprecated
        "${where}: format = \"${format}\" is deprecated: write pyproject = ${if format == "other" then "false" else "true"} instead";
      isWheel = lib.hasSuffix ".whl" (srcName (attrs.src or ""));
      formatChecked =
        if strictFormats && deprecated then fail where (head warnings)
        else if isWheel && format' != "wheel" then
          fail where "src is a wheel but the format is \"${format'}\": write format = \"wheel\""
        else if format' == "wheel" && attrs ? src && !isWheel then
          fail where "format = \"wheel\" but src (${srcName attrs.src}) is not a .whl"
        else format';
      checkDeps = list: attr: map
        (d:
          if !(isAttrs d && d ? outPath) then
            fail where "${attr} holds a ${typeOf d}, not a package"
          else if (d.pythonModule or false) != false && d.pythonModule.outPath != python3.outPath then
            fail where "Python version mismatch: ${d.name} in ${attr} uses another interpreter"
          else d)
        list;
      dependencies = checkDeps (attrs.dependencies or [ ]) "dependencies";
      propagated = checkDeps (attrs.propagatedBuildInputs or [ ]) "propagatedBuildInputs";
      buildSystem = checkDeps (attrs.build-system or [ ]) "build-system";
      meta = checkMeta where ({ platforms = python3.meta.platforms; } // (attrs.meta or { }));
      cleaned = removeAttrs attrs [
        "disabled" "checkPhase" "checkInputs" "nativeCheckInputs" "doCheck" "doInstallCheck"
        "pyproject" "format" "stdenv" "dependencies" "optional-dependencies" "build-system"
      ];
      env = drvEnv where (cleaned // {
        nativeBuildInputs = (attrs.nativeBuildInputs or [ ]) ++ buildSystem;
        propagatedBuildInputs = propagated ++ dependencies ++ [ python3 ];
        doInstallCheck = attrs.doCheck or false;
      } // lib.optionalAttrs (attrs ? checkPhase) { installCheckPhase = attrs.checkPhase; });
    in
    if attrs.disabled or false then throw "${name} not supported for interpreter ${python3.executable}"
    else mkDrv (if application then name else "python${majorMinor}-${name}") ((attrs.passthru or { }) // {
      inherit (attrs) pname version;
      inherit meta env warnings;
      format = formatChecked;
      passthru = attrs.passthru or { };
      dependencyNames = map (d: d.pname or d.name) (propagated ++ dependencies);
      buildSystemNames = map (d: d.pname or d.name) buildSystem;
    } // lib.optionalAttrs (!application) { pythonModule = python3; });

  hashOf = where: a:
    if isString (a.hash or null) && match "(sha256|sha512)-.+" a.hash != null then a.hash
    else if isString (a.sha256 or null) && a.sha256 != "" then a.sha256
    else fail where "no hash (write hash = \"sha256-…\")";

  fetchFromGitHub = a:
    let where = "fetchFromGitHub ${a.owner or "?"}/${a.repo or "?"}"; in
    if !(isString (a.owner or null) && isString (a.repo or null)) then fail where "owner and repo are required"
    else if (a.rev or null != null) == (a.tag or null != null) then
      fail where "requires one of either `rev` or `tag` to be provided (not both)"
    else builtins.seq (hashOf where a) (mkDrv (a.name or "source") { outputHash = hashOf where a; });

  fetchurl = a:
    let
      url = a.url or (head (a.urls or [ (throw "fetchurl: url or urls is required") ]));
    in
    builtins.seq (hashOf "fetchurl ${url}" a)
      (mkDrv (a.name or (baseNameOf url)) { inherit url; outputHash = hashOf "fetchurl ${url}" a; });

  fetchPypi = a: builtins.seq (hashOf "fetchPypi ${a.pname}" a)
    (mkDrv "${a.pname}-${a.version}-source" { outputHash = hashOf "fetchPypi ${a.pname}" a; });

  callPackageWith = scope: path: overrides:
    let
      f = import path;
      args = functionArgs f;
      missing = filter (n: !args.${n} && !(hasAttr n scope) && !(hasAttr n overrides)) (attrNames args);
    in
    if missing != [ ] then
      throw "Function called without required argument \"${head missing}\" at ${toString path}"
    else f (intersectAttrs args scope // overrides);

  nixpkgs = {
    inherit lib python3 fetchFromGitHub fetchurl fetchPypi;
    python3Packages = python3.pkgs;
    stdenv = python3.stdenv // { mkDerivation = a: mkDrv "${a.pname}-${a.version}" a; };
    runtimeShell = "/stub/bin/bash";
    fetchzip = fetchurl;
    makeWrapper = mkDrv "make-wrapper-hook" { };
    makeBinaryWrapper = mkDrv "make-binary-wrapper-hook" { };
    writeShellScript = name: text: mkDrv name { inherit text; executable = true; };
    writeShellScriptBin = name: text: mkDrv name { inherit text; executable = true; destination = "/bin/${name}"; };
    writeText = name: text: mkDrv name { inherit text; };
    linkFarm = name: entries: mkDrv name { inherit entries; };
  } // lib.optionalAttrs (hasAttr "spandrel" pythonPackages) {
    # a top-level attribute our package set shadows, to prove the overlay's precedence
    spandrel = mkDrv "nixpkgs-top-level-spandrel" { };
  };

  # Flox's overlay: one attribute per package file, called in a scope of everything, where
  # the attribute's own name means nixpkgs' value (or a circular-dependency error).
  files = filter (n: lib.hasSuffix ".nix" n && (readDir pkgsDir).${n} == "regular")
    (attrNames (readDir pkgsDir));
  ours = listToAttrs (map
    (file:
      let name = substring 0 (stringLength file - 4) file; in {
        inherit name;
        value = callPackageWith
          (pkgs // { ${name} = nixpkgs.${name} or (throw "Circular dependency detected. The package '${name}' requests itself"); })
          (pkgsDir + "/${file}")
          { };
      })
    files);
  pkgs = nixpkgs // ours;

  summary = name: d: {
    inherit name;
    drvName = d.name;
    inherit (d) version format warnings env dependencyNames buildSystemNames;
    inherit (d.meta) platforms;
    application = !(d ? pythonModule);
    launcher = if d ? launcher then d.launcher.text else null;
    pythonEnvModules = if d ? pythonEnv then d.pythonEnv.modules else null;
  };
in
mapAttrs summary ours
