# The project's images for the real node, built without Docker and pushed to the local registry
# (component `node_images` of the node tier). Sourced by hack/testbed.
#
#   darwin-base          Debian bookworm from Debian's mirror (mmdebstrap), with CA certificates and wget
#   darwin-ray           Ray (the testbed's Ray version) with its dashboard and JupyterLab   (hack/images/darwin-ray)
#   darwin-mlflow-serve  MLflow (the testbed's version) and scikit-learn   (hack/images/darwin-mlflow-serve)
#   darwin               Node 24 and this checkout with production dependencies   (hack/images/darwin)
#   darwin-buildkit      BuildKit (buildkitd, buildctl, buildctl-daemonless.sh), rootlesskit, runc and git,
#                        built from the Go module proxy: the ArtifactBuild pods' image   (hack/images/darwin-buildkit)
#
# Each image is tagged with a hash of everything it is made of (its Containerfile, versions, base, files),
# kept in buildah's storage under $DARWIN_CACHE/buildah and in the registry's storage under
# $DARWIN_CACHE/registry, so a warm run builds and pushes nothing. Each is also pushed under a readable tag
# (darwin-ray:<ray version>, darwin-mlflow-serve:<mlflow version>, darwin:dev, darwin-base:bookworm) that pods
# and samples use.

NODE_IMAGES_SRC=$HACK_DIR/images
NODE_IMAGES_CACHE=$DARWIN_CACHE/images
NODE_BASE_PACKAGES=ca-certificates,wget,procps
# bookworm's python3: wheels are chosen for it (some packages want a newer 3.11 patch release)
NODE_IMAGE_PYTHON=3.11.2
# BuildKit and the rootlesskit its own rootless image ships (ROOTLESSKIT_VERSION in BuildKit's Dockerfile)
BUILDKIT_VERSION=${DARWIN_BUILDKIT_VERSION:-v0.34.2}
BUILDKIT_DIR=$DARWIN_CACHE/buildkit-$BUILDKIT_VERSION
ROOTLESSKIT_VERSION=${DARWIN_ROOTLESSKIT_VERSION:-v3.2.0}
ROOTLESSKIT_DIR=$DARWIN_CACHE/rootlesskit-$ROOTLESSKIT_VERSION

# node_image_hash <text...>: a short content hash
node_image_hash() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

# node_image_have <name:tag>: true when buildah's storage has the image
node_image_have() { node_buildah inspect --type image "localhost/$1" >/dev/null 2>&1; }

# node_image_tags: "<name> <hash-tag> <readable-tag>" for every image, base first (computed, not built)
node_image_tags() {
  local base ray mlflow darwin buildkit
  base=$(node_image_hash mmdebstrap minbase bookworm "$NODE_BASE_PACKAGES")
  ray=$(node_image_hash "$base" "$RAY_VERSION" "$(cat "$NODE_IMAGES_SRC/darwin-ray/Containerfile")")
  mlflow=$(node_image_hash "$base" "$MLFLOW_VERSION" "$(cat "$NODE_IMAGES_SRC/darwin-mlflow-serve/Containerfile")")
  darwin=$(node_image_hash "$base" "$(node_darwin_context_hash)")
  buildkit=$(node_image_hash "$base" "$BUILDKIT_VERSION" "$ROOTLESSKIT_VERSION" "$RUNC_VERSION" \
    "$(cat "$NODE_IMAGES_SRC/darwin-buildkit/Containerfile")")
  echo "darwin-base $base bookworm"
  echo "darwin-ray $ray $RAY_VERSION"
  echo "darwin-mlflow-serve $mlflow $MLFLOW_VERSION"
  echo "darwin $darwin dev"
  echo "darwin-buildkit $buildkit $BUILDKIT_VERSION"
}

# The darwin image's inputs: its Containerfile, the Node binary, and every file git tracks in the checkout
# (as they are in the working tree).
node_darwin_context_hash() {
  {
    cat "$NODE_IMAGES_SRC/darwin/Containerfile"
    "$REPO_DIR/node_modules/.bin/node" --version
    (cd "$REPO_DIR" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r sha256sum 2>/dev/null)
  } | sha256sum | cut -c1-16
}

node_base_build() {
  local tag=$1 log dir=$NODE_IMAGES_CACHE/darwin-base c
  log=$(tb_build_log darwin-base)
  mkdir -p "$dir"
  tb_log "node_images: darwin-base from Debian's mirror with mmdebstrap (log $log)"
  rm -f "$dir/rootfs.tar"
  mmdebstrap --variant=minbase --include="$NODE_BASE_PACKAGES" --mode=root --format=tar \
    --aptopt='Acquire::Retries "3"' bookworm "$dir/rootfs.tar" http://deb.debian.org/debian >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; tb_die "mmdebstrap bookworm failed"; }
  c=$(node_buildah from scratch)
  node_buildah add "$c" "$dir/rootfs.tar" / >>"$log" 2>&1
  node_buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd bash "$c"
  node_buildah commit --quiet --format oci "$c" "localhost/darwin-base:$tag" >>"$log" 2>&1
  node_buildah rm "$c" >/dev/null
  rm -f "$dir/rootfs.tar"
}

# node_image_wheels <image>: the wheel set an image is built from, as "<set name> <requirement...>" (none
# for images without Python packages)
node_image_wheels() {
  case $1 in
    darwin-ray) echo "ray-$RAY_VERSION ray[default]==$RAY_VERSION jupyterlab" ;;
    darwin-mlflow-serve) echo "mlflow-$MLFLOW_VERSION mlflow==$MLFLOW_VERSION scikit-learn" ;;
  esac
}

# node_wheels <name> <requirement...>: the wheels of the requirements (and their dependencies) for the
# base image's Python, downloaded from PyPI once on this machine (whose CA bundle reaches PyPI). Held under a
# lock on <dir>.lock: the download node_images_prefetch started is waited for, never run twice.
node_wheels() {
  local name=$1 dir=$NODE_IMAGES_CACHE/wheels-$1 log lock
  shift
  mkdir -p "$NODE_IMAGES_CACHE"
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [[ ! -f $dir/.complete || "$(cat "$dir/.complete")" != "$NODE_IMAGE_PYTHON $*" ]]; then
    log=$(tb_build_log "wheels-$name")
    tb_log "node_images: downloading $* from PyPI (log $log)"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$DARWIN_PYTHON" -m pip download --no-input --only-binary=:all: --python-version "$NODE_IMAGE_PYTHON" \
      --dest "$dir" "$@" >"$log" 2>&1 ||
      { tail -n 30 "$log" >&2; rm -rf "$dir"; tb_die "pip could not download $*"; }
    echo "$NODE_IMAGE_PYTHON $*" >"$dir/.complete"
  fi
  exec {lock}>&-
  echo "$dir"
}

# node_images_prefetch: download the wheels of the images not built yet in the background, so that the
# transfer from PyPI overlaps the node's Go builds (hack/testbed runs every <component>_prefetch before the
# first build). A download that fails here is tried again, and reported, by the build.
node_images_prefetch() {
  local name tag readable wheels
  while read -r name tag readable; do
    node_image_have "$name:$tag" && continue
    read -ra wheels <<<"$(node_image_wheels "$name")"
    ((${#wheels[@]})) || continue
    tb_log "node_images: downloading the wheels of $name from PyPI in the background"
    (node_wheels "${wheels[@]}" >/dev/null 2>&1 &)
  done < <(node_image_tags)
}

# node_bud <name> <tag> <context> <build-arg...>: build hack/images/<name>/Containerfile on the base
node_bud() {
  local name=$1 tag=$2 context=$3 log
  shift 3
  log=$(tb_build_log "$name")
  tb_log "node_images: building $name (log $log)"
  local args=()
  for a in "$@"; do args+=(--build-arg "$a"); done
  node_buildah bud --isolation chroot --network host --layers=false --format oci \
    --build-arg "BASE=localhost/darwin-base:$NODE_BASE_TAG" "${args[@]}" \
    -f "$NODE_IMAGES_SRC/$name/Containerfile" -t "localhost/$name:$tag" "$context" >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; tb_die "building the $name image failed"; }
}

# The darwin image's context: the Node binary, the tracked files and production dependencies (cached by
# the lockfile's hash).
node_darwin_context() {
  local ctx=$DARWIN_RUN/build/darwin lock modules
  lock=$(sha256sum "$REPO_DIR/package-lock.json" | cut -c1-16)
  modules=$NODE_IMAGES_CACHE/darwin-node_modules-$lock
  if [[ ! -f $modules/.complete ]]; then
    tb_log "node_images: production dependencies from npm (log $(tb_build_log darwin-npm))"
    rm -rf "$modules"
    mkdir -p "$modules"
    cp "$REPO_DIR/package.json" "$REPO_DIR/package-lock.json" "$modules/"
    (cd "$modules" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund) >"$(tb_build_log darwin-npm)" 2>&1 ||
      { tail -n 30 "$(tb_build_log darwin-npm)" >&2; tb_die "npm ci --omit=dev failed"; }
    touch "$modules/.complete"
  fi
  rm -rf "$ctx"
  mkdir -p "$ctx/app"
  cp "$(readlink -f "$REPO_DIR/node_modules/.bin/node")" "$ctx/node"
  (cd "$REPO_DIR" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r cp --parents -t "$ctx/app" 2>/dev/null) || true
  cp -a "$modules/node_modules" "$ctx/app/node_modules"
  echo "$ctx"
}

# BuildKit's daemon and client, and rootlesskit, from the Go module proxy (static, as BuildKit's own
# Dockerfile builds them), cached by version like the node's other Go programs.
buildkit_build() {
  tb_go_have "$BUILDKIT_DIR/bin" buildkitd buildctl ||
    GOFLAGS="-buildvcs=false -tags=osusergo,netgo,static_build,seccomp" tb_go_wrapper_build "$BUILDKIT_DIR" \
      "-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" "go 1.26

require github.com/moby/buildkit $BUILDKIT_VERSION" \
      github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
  tb_go_have "$ROOTLESSKIT_DIR/bin" rootlesskit ||
    GOFLAGS=-buildvcs=false tb_go_wrapper_build "$ROOTLESSKIT_DIR" "-s -w" "go 1.26

require github.com/rootless-containers/rootlesskit/v3 $ROOTLESSKIT_VERSION" \
      github.com/rootless-containers/rootlesskit/v3/cmd/rootlesskit
}

# The darwin-buildkit image's context: the binaries, runc (the node's build, by containerd_build) and
# buildctl-daemonless.sh from BuildKit's module (examples/buildctl-daemonless).
node_buildkit_context() {
  local ctx=$DARWIN_RUN/build/darwin-buildkit src
  [[ -x $NODE_RUNC ]] || tb_die "darwin-buildkit takes the node's runc (hack/testbed build containerd)"
  src=$(cd "$BUILDKIT_DIR/src" && go mod download -json "github.com/moby/buildkit@$BUILDKIT_VERSION" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -f $src/examples/buildctl-daemonless/buildctl-daemonless.sh ]] ||
    tb_die "buildctl-daemonless.sh not found in github.com/moby/buildkit@$BUILDKIT_VERSION ($src)"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$BUILDKIT_DIR/bin/buildkitd" "$BUILDKIT_DIR/bin/buildctl" "$ROOTLESSKIT_DIR/bin/rootlesskit" "$NODE_RUNC" \
    "$src/examples/buildctl-daemonless/buildctl-daemonless.sh" "$ctx/"
  chmod 0755 "$ctx"/*
  echo "$ctx"
}

node_images_build() {
  local name tag readable ctx wheels
  while read -r name tag readable; do
    [[ $name == darwin-base ]] && NODE_BASE_TAG=$tag
    node_image_have "$name:$tag" && continue
    case $name in
      darwin-base) node_base_build "$tag" ;;
      darwin-ray)
        read -ra wheels <<<"$(node_image_wheels "$name")"
        ctx=$(node_wheels "${wheels[@]}")
        node_bud darwin-ray "$tag" "$ctx" "RAY_VERSION=$RAY_VERSION"
        ;;
      darwin-mlflow-serve)
        read -ra wheels <<<"$(node_image_wheels "$name")"
        ctx=$(node_wheels "${wheels[@]}")
        node_bud darwin-mlflow-serve "$tag" "$ctx" "MLFLOW_VERSION=$MLFLOW_VERSION"
        ;;
      darwin)
        ctx=$(node_darwin_context)
        node_bud darwin "$tag" "$ctx"
        ;;
      darwin-buildkit)
        buildkit_build
        ctx=$(node_buildkit_context)
        node_bud darwin-buildkit "$tag" "$ctx"
        ;;
    esac
  done < <(node_image_tags)
}

# node_registry_has <name> <tag>
node_registry_has() {
  curl -fs --max-time 3 -o /dev/null -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$NODE_REGISTRY/v2/$1/manifests/$2"
}

node_images_start() {
  registry_ready || tb_die "the images go to the local registry (hack/testbed up registry)"
  # Image builds clone and push from pods through the forwarding to the node's address (node.sh); it is
  # set up again when found missing (route_localnet on the bridge has been seen back at 0 under a running
  # node, cause not found), which node_images_ready checks.
  if tb_running containerd; then node_loopback_forward; fi
  local name tag readable t
  while read -r name tag readable; do
    node_registry_has "$name" "$tag" && continue
    for t in "$tag" "$readable"; do
      tb_log "node_images: pushing $name:$t to $NODE_REGISTRY"
      node_buildah push --quiet --tls-verify=false "localhost/$name:$tag" "docker://$NODE_REGISTRY/$name:$t" >&2 ||
        tb_die "pushing $name:$t to the local registry failed"
    done
    # The node pulls readable tags once (IfNotPresent): drop its copy of the old content, so the next pod
    # pulls the new one (an image a running container uses stays until the container goes).
    if tb_running containerd; then
      node_crictl rmi "$NODE_REGISTRY/$name:$readable" >/dev/null 2>&1 || true
    fi
  done < <(node_image_tags)
}

node_images_ready() {
  local name tag readable
  if tb_running containerd; then
    [[ $(cat "/proc/sys/net/ipv4/conf/$NODE_BRIDGE/route_localnet" 2>/dev/null) == 1 ]] || return 1
  fi
  while read -r name tag readable; do
    node_registry_has "$name" "$tag" && node_registry_has "$name" "$readable" || return 1
  done < <(node_image_tags)
}

# node_image_ref <name>: the reference of this checkout's image by its content-hash tag, which no other
# checkout's push changes (the readable tags are shared: the last push wins); fails when the registry does
# not hold it.
node_image_ref() {
  local name tag readable
  while read -r name tag readable; do
    [[ $name == "$1" ]] || continue
    node_registry_has "$name" "$tag" ||
      tb_die "$NODE_REGISTRY has no $name:$tag, this checkout's $name image: hack/testbed up node_images"
    echo "$NODE_REGISTRY/$name:$tag"
    return 0
  done < <(node_image_tags)
  tb_die "no image '$1' (images: $(node_image_tags | cut -d' ' -f1 | tr '\n' ' '))"
}

node_images_timeout() { echo 600; }

node_images_env() {
  local name tag readable
  while read -r name tag readable; do
    echo "DARWIN_IMAGE_$(echo "$name" | tr 'a-z-' 'A-Z_')=$NODE_REGISTRY/$name:$readable"
  done < <(node_image_tags)
}
