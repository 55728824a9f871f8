# A stand-in for nixpkgs, for evaluating .flox/pkgs/*.nix with real `nix-instantiate --eval`
# where no nixpkgs can be had (tests/package_set/nix_eval_test.ts). It calls the package files the way
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
# And the torch family as nixpkgs has it, for the CUDA build (comfyui-cuda.nix):
#   - `torch` (source build): `cudaSupport ? config.cudaSupport`, false here as under NEF, kept
#     in passthru; `torch.override { cudaSupport = true; }`, Linux only; `torchWithCuda`;
#   - `torch-bin`, `torchvision-bin`, `torchaudio-bin` (torch/bin/binary-hashes.nix): CUDA
#     wheels on x86_64-linux, "+cpu" wheels on aarch64-linux, CPU wheels on aarch64-darwin;
#     unfree (unfreeRedistributable), no `cudaSupport` attribute;
#   - `python3.override { packageOverrides; self; }`: a package set re-made with the overrides,
#     everything in it that takes torch (torchvision, kornia, …) taking the new one;
#   - `lib.makeScope` / `newScope` / `lib.callPackageWith` as in lib/customisation.nix.
# Store paths hash a derivation's inputs, as Nix does, so a package built against another
# torch is another path; each summary lists the torches in the package's closure (two in one
# Python environment collide at build time in nixpkgs' buildEnv). A package not available on
# `system` (meta.platforms) is summarised as such; building it (its `env`) throws.
{ system
  # null: nixpkgs' own entry, `import nixpkgs { system; config; overlays; }`, for code that
  # imports a nixpkgs (verify's evaluation of the builds); pkgsDir is then unused
, overlays ? null
, pkgsDir ? null
, pythonVersion
  # python3Packages attribute -> version (the offline index, nixpkgs-index.json)
, pythonPackages
  # the lib.licenses attribute names
, licenseNames
, strictFormats ? false
  # python3Packages attributes nixpkgs marks broken (meta.broken; anything needing one throws)
, brokenModules ? [ ]
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
    removeSuffix = suffix: s:
      if lib.hasSuffix suffix s then substring 0 (stringLength s - stringLength suffix) s else s;
    inherit callPackageWith;
    # lib/customisation.nix
    makeScope = newScope: f:
      let
        self = f self // {
          newScope = scope: newScope (self // scope);
          callPackage = self.newScope { };
          packages = f;
        };
      in
      self;
    versionOlder = a: b: builtins.compareVersions a b < 0;
    # lib/meta.nix (string platforms: nothing here lists attribute sets)
    meta = rec {
      platformMatch = platform: p: isString p && platform ? system && p == platform.system;
      availableOn = platform: pkg:
        (!(pkg ? meta.platforms) || builtins.any (platformMatch platform) pkg.meta.platforms)
        && builtins.all (p: !platformMatch platform p) (pkg.meta.badPlatforms or [ ]);
    };
  };

  isDarwin = match ".*-darwin" system != null;
  hostPlatform = { inherit system isDarwin; isLinux = !isDarwin; };

  # A derivation as far as evaluation goes: a name, an output path, its attributes.
  # The path hashes the name and the inputs (`stubInputs`, `stubVariant`), as Nix does.
  mkDrv = name: attrs: attrs // {
    type = "derivation";
    inherit name system;
    outPath = "/nix/store/${substring 0 32 (builtins.hashString "sha256" (concatStringsSep ":"
      ([ system name (attrs.stubVariant or "") ] ++ map (d: d.outPath) (attrs.stubInputs or [ ]))))}-${name}";
  };

  # Every derivation reachable through `stubInputs`, `ds` included.
  closureOf = ds: map (x: x.d) (builtins.genericClosure {
    startSet = map (d: { key = d.outPath; inherit d; }) ds;
    operator = x: map (d: { key = d.outPath; inherit d; }) (x.d.stubInputs or [ ]);
  });
  torchesOf = ds: map (d: { inherit (d) name; path = d.outPath; cuda = d.stubCuda; })
    (filter (d: (d.pname or "") == "torch") (closureOf ds));

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
    else meta // { inherit available; };

  # A Python and its package set; `override { packageOverrides; self; }` makes another one.
  mkPython = packageOverrides:
    let
      py = mkDrv "python3-${pythonVersion}" {
        pname = "python3";
        version = pythonVersion;
        inherit pythonVersion;
        executable = "python${majorMinor}";
        sitePackages = "lib/python${majorMinor}/site-packages";
        interpreter = "${py.outPath}/bin/python${majorMinor}";
        meta = { platforms = lib.platforms.unix; mainProgram = "python3"; };
        stdenv = { inherit hostPlatform; buildPlatform = hostPlatform; shell = "/stub/bin/bash"; };
        pkgs = pkgSet;
        override = a:
          if !(a ? self) then
            throw "python3.override: pass `self` (the overridden interpreter) as the nixpkgs manual does, or python.pkgs keeps the old set"
          else mkPython (a.packageOverrides or (_: _: { }));
        withPackages = f:
          let
            chosen = f py.pkgs;
            checked = map
              (d:
                if isAttrs d && (d.pythonModule or false) != false
                  && d.pythonModule.outPath == py.outPath
                then d
                else fail "python3.withPackages"
                  "${d.name or (typeOf d)} is not a Python module of this interpreter (nixpkgs would drop it silently)")
              chosen;
          in
          builtins.foldl' (acc: d: builtins.seq d acc)
            (mkDrv "python3-${pythonVersion}-env" {
              modules = map (d: d.pname or d.name) checked;
              torches = torchesOf checked;
              stubInputs = checked;
            })
            checked;
      };
      base = pself: mapAttrs (module py pself) pythonPackages // torchFamily py pself // {
        python = py;
        # pip is part of every nixpkgs python3Packages (the index lists what packages use)
        pip = module py pself "pip" (pythonPackages.pip or "0");
        buildPythonPackage = mkPythonDerivation py { application = false; };
        buildPythonApplication = mkPythonDerivation py { application = true; };
        toPythonModule = d: d // { pythonModule = py; };
      };
      pkgSet = let b = base pkgSet; in b // packageOverrides pkgSet b;
    in
    py;
  python3 = mkPython (_: _: { });
  majorMinor = concatStringsSep "." (builtins.genList
    (i: builtins.elemAt (builtins.splitVersion pythonVersion) i) 2);

  # nixpkgs packages that take `torch` (so a closure's torch can be counted); torchvision and
  # torchaudio build for CUDA when their torch does (`cudaSupport ? torch.cudaSupport or false`).
  torchUsers = [ "torchvision" "torchaudio" "torchsde" "kornia" "timm" "spandrel" ];
  followsTorch = [ "torchvision" "torchaudio" ];

  # check-meta.nix's commonMeta gives every package meta.broken; a broken one refuses to
  # evaluate as a dependency (its outPath throws here), while its meta stays readable.
  module = py: pset: pname: version:
    let
      name = "python${majorMinor}-${pname}-${version}";
      broken = elem pname brokenModules;
      d = mkDrv name (rec {
        inherit pname version;
        pythonModule = py;
        meta = { inherit broken; available = !broken; };
        stubInputs = lib.optional (elem pname torchUsers) pset.torch;
        propagatedBuildInputs = stubInputs;
      } // lib.optionalAttrs (elem pname followsTorch) {
        stubCuda = pset.torch.stubCuda;
      });
    in
    if broken then d // { outPath = throw "Package '${name}' is marked as broken, refusing to evaluate."; }
    else d;

  torchFamily = py: pset:
    let
      version = pythonPackages.torch or "2.8.0";
      # torch/default.nix: cudaSupport ? config.cudaSupport (NEF sets no cudaSupport)
      source = { cudaSupport ? false }:
        if cudaSupport && !hostPlatform.isLinux then
          throw "torch: cudaSupport is only available on Linux"
        else mkDrv "python${majorMinor}-torch-${version}" {
          pname = "torch";
          inherit version cudaSupport;
          pythonModule = py;
          stubCuda = cudaSupport;
          stubVariant = if cudaSupport then "cuda" else "";
          override = a: source ({ inherit cudaSupport; } // a);
        };
      # binary-hashes.nix: download.pytorch.org/whl/cu12x wheels only for x86_64-linux
      binCuda = system == "x86_64-linux";
      bin = pname: inputs: mkDrv "python${majorMinor}-${pname}-${pythonPackages.${pname} or version}" {
        inherit pname;
        version = pythonPackages.${pname} or version;
        pythonModule = py;
        stubCuda = binCuda;
        stubVariant = "bin";
        stubInputs = inputs;
        propagatedBuildInputs = inputs;
        src = {
          url = "https://download.pytorch.org/whl/${if binCuda then "cu128" else "cpu"}/${pname}-${version}-cp313-cp313-linux.whl";
        };
        meta.platforms = [ "aarch64-darwin" "aarch64-linux" "x86_64-linux" ];
      };
    in
    {
      torch = source { };
      # python-packages.nix
      torchWithCuda = pset.torch.override { cudaSupport = true; };
      torchWithoutCuda = pset.torch.override { cudaSupport = false; };
      torch-bin = bin "torch" [ ];
      torchvision-bin = bin "torchvision" [ pset.torch-bin ];
      torchaudio-bin = bin "torchaudio" [ pset.torch-bin ];
    };

  knownFormats = [ "setuptools" "wheel" "pyproject" "egg" "other" ];

  srcName = src:
    if isPath src || isString src then baseNameOf (toString src)
    else src.name or "";

  # mk-python-derivation.nix, as far as evaluation goes.
  mkPythonDerivation = python3: { application }: attrs:
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
      env = if !meta.available then
        fail where "is not available on the requested hostPlatform ${system} (meta.platforms)"
      else drvEnv where (cleaned // {
        nativeBuildInputs = (attrs.nativeBuildInputs or [ ]) ++ buildSystem;
        propagatedBuildInputs = propagated ++ dependencies ++ [ python3 ];
        doInstallCheck = attrs.doCheck or false;
      } // lib.optionalAttrs (attrs ? checkPhase) { installCheckPhase = attrs.checkPhase; });
    in
    if attrs.disabled or false then throw "${name} not supported for interpreter ${python3.executable}"
    else availableOnly where meta (mkDrv (if application then name else "python${majorMinor}-${name}") ((attrs.passthru or { }) // {
      inherit (attrs) pname version;
      inherit meta env warnings;
      format = formatChecked;
      passthru = attrs.passthru or { };
      dependencyNames = map (d: d.pname or d.name) (propagated ++ dependencies);
      buildSystemNames = map (d: d.pname or d.name) buildSystem;
      stubInputs = propagated ++ dependencies;
      propagatedBuildInputs = propagated ++ dependencies ++ [ python3 ];
      # mk-python-derivation.nix: the same call with changed attributes
      overridePythonAttrs = f:
        mkPythonDerivation python3 { inherit application; } (attrs // (if isFunction f then f attrs else f));
    } // lib.optionalAttrs (!application) { pythonModule = python3; }));

  # check-meta.nix: an unavailable package has no store path (building it, or anything that
  # needs it, is the error).
  availableOnly = where: meta: d:
    if meta.available then d
    else d // { outPath = fail where "is not available on the requested hostPlatform ${system} (meta.platforms)"; };

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
      f = if isFunction path then path else import path;
      args = functionArgs f;
      missing = filter (n: !args.${n} && !(hasAttr n scope) && !(hasAttr n overrides)) (attrNames args);
    in
    if missing != [ ] then
      throw "Function called without required argument \"${head missing}\" at ${toString path}"
    else f (intersectAttrs args scope // overrides);

  nixpkgs = {
    inherit lib python3 fetchFromGitHub fetchurl fetchPypi;
    # NEF's import of nixpkgs (package-builder/nef/default.nix): no cudaSupport
    config = { allowUnfree = true; allowInsecure = true; };
    # pkgs/top-level/splice.nix
    newScope = extra: callPackageWith (pkgs // extra);
    callPackage = callPackageWith pkgs;
    python3Packages = python3.pkgs;
    # stdenv.mkDerivation: passthru merged into the derivation, meta checked, attributes coerced.
    stdenv = python3.stdenv // {
      mkDerivation = a:
        let where = "${a.pname}-${a.version}"; in
        mkDrv where ((a.passthru or { }) // a // {
          meta = checkMeta where ({ platforms = lib.platforms.all; } // (a.meta or { }));
          env = drvEnv where a;
        });
    };
    runtimeShell = "/stub/bin/bash";
    fetchzip = fetchurl;
    makeWrapper = mkDrv "make-wrapper-hook" { };
    unzip = mkDrv "unzip-6.0" { };
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
  # NEF's dirToAttrs: `<name>.nix`, and `<name>/default.nix`.
  entries = readDir pkgsDir;
  packageFiles = builtins.concatMap
    (n:
      if entries.${n} == "regular" && lib.hasSuffix ".nix" n then
        [{ name = lib.removeSuffix ".nix" n; path = pkgsDir + "/${n}"; }]
      else if entries.${n} == "directory" && builtins.pathExists (pkgsDir + "/${n}/default.nix") then
        [{ name = n; path = pkgsDir + "/${n}"; }]
      else [ ])
    (attrNames entries);
  ours = listToAttrs (map
    (file: {
      inherit (file) name;
      value = callPackageWith
        (pkgs // { ${file.name} = nixpkgs.${file.name} or (throw "Circular dependency detected. The package '${file.name}' requests itself"); })
        file.path
        { };
    })
    packageFiles);
  pkgs = if overlays == null then nixpkgs // ours else final;
  # nixpkgs' overlays: each sees the final set and the one before it
  final = builtins.foldl' (prev: overlay: prev // overlay final prev) nixpkgs overlays;

  summary = name: d: if !(d.meta.available or true) then {
    inherit name;
    drvName = d.name;
    available = false;
    inherit (d.meta) platforms;
  } else if !(d ? format) then {
    # not a buildPythonPackage/Application (a node pack: a folder of files)
    inherit name;
    available = true;
    python = false;
    drvName = d.name;
    comfyuiNodeName = d.comfyuiNodeName or null;
    torches = torchesOf (d.pythonDependencies or [ ]);
  } else {
    python = true;
    inherit name;
    available = true;
    drvName = d.name;
    inherit (d) version format warnings env dependencyNames buildSystemNames;
    path = d.outPath;
    # comfyui.nix: its node packs, each with its folder name and Python dependencies.
    customNodes = if d ? customNodes then map
      (n: { name = n.comfyuiNodeName; drvName = n.name; pythonDependencies = map (p: p.pname or p.name) n.pythonDependencies; })
      d.customNodes else null;
    inherit (d.meta) platforms;
    application = !(d ? pythonModule);
    launcher = if d ? launcher then d.launcher.text else null;
    pythonEnvModules = if d ? pythonEnv then d.pythonEnv.modules else null;
    # the torches in the closure: of the launcher's environment for an application
    torches = torchesOf [ (d.pythonEnv or d) ];
    # every package of that closure, with the CUDA setting of each torch in its own closure
    closure = map
      (c: { inherit (c) name; path = c.outPath; pname = c.pname or null; torches = map (x: x.cuda) (torchesOf [ c ]); })
      (closureOf [ (d.pythonEnv or d) ]);
  };
in
if overlays == null then mapAttrs summary ours else final
