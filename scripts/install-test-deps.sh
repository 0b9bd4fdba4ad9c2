#!/usr/bin/env bash
# Installs the Kafka clients that the compatibility suite (compat/) runs
# besides the Go ones in go.mod:
#   - from Debian's packages: kcat, Python's confluent-kafka (librdkafka) and
#     kafka-python, and the Python codec modules kafka-python uses for snappy,
#     lz4 and zstd (gzip is in the standard library); Node.js and npm only if
#     missing; g++ and make only if missing (node-gyp builds two codecs);
#   - from npm, into compat/node/node_modules: kafkajs and its codecs, exactly
#     as compat/node/package-lock.json pins them (npm ci).
# Idempotent: when everything is present it does nothing, without network,
# in well under a second. The Debian modules are for /usr/bin/python3, not
# for whatever python3 comes first on PATH.
# Usage: scripts/install-test-deps.sh   (as root, or with sudo; `make test` runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(kcat python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard)

missing=()
for p in "${debs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "${status:0:2}" = ii ] || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-test-deps: installing from Debian: ${missing[*]}" >&2
	apt=(env DEBIAN_FRONTEND=noninteractive apt-get -qq)
	[ "$(id -u)" -eq 0 ] || apt=(sudo "${apt[@]}")
	"${apt[@]}" update
	"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
	/usr/bin/python3 -c 'import confluent_kafka, kafka, snappy, lz4.frame, zstandard' ||
		{ echo "install-test-deps: the Python clients do not import under /usr/bin/python3" >&2; exit 1; }
	for p in "${debs[@]}"; do
		echo "install-test-deps:   $(dpkg-query -W -f='${Package} ${Version}' "$p")" >&2
	done
fi

# compat/node/node_modules is current when it was installed from this very
# lock file by this very node (lz4 is a native addon built for one ABI) and
# still holds the packages and addons the suite loads.
node_dir=compat/node
mods=$node_dir/node_modules
stamp=$mods/.samsa-install-stamp
want="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
current=true
[ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ] || current=false
for f in kafkajs/package.json kafkajs-snappy/package.json kafkajs-lz4/package.json \
	lz4/build/Release/lz4.node zstd-napi/build/Release/binding.node; do
	[ -f "$mods/$f" ] || current=false
done
if [ $current = false ]; then
	echo "install-test-deps: npm ci in $node_dir (kafkajs and codecs; builds lz4 and zstd addons)" >&2
	# node-gyp must build against the installed headers: this machine
	# reaches no download site for them.
	if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
		export npm_config_nodedir=/usr
	fi
	# node-gyp compiles on every core.
	(cd "$node_dir" && JOBS=${JOBS:-max} npm ci --no-audit --no-fund --loglevel=error)
	# npm may skip install scripts: check that both addons were built.
	(cd "$node_dir" && node -e 'require("kafkajs-lz4"); require("zstd-napi")') ||
		{ echo "install-test-deps: the lz4 or zstd addon of kafkajs did not build in $node_dir" >&2; exit 1; }
	echo "$want" >"$stamp"
	(cd "$node_dir" && npm ls --depth=0 2>/dev/null | sed '/^$/d; s/^/install-test-deps:   /' >&2) || true
fi
