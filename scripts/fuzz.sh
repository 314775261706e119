#!/usr/bin/env bash
# Fuzzes wismo's decoders (fuzz/fuzz_targets/*.rs) with cargo-fuzz and libFuzzer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 10 (the CI budget); run longer by hand, e.g.
# `scripts/fuzz.sh 1800 codec`. Installs what is missing (a nightly toolchain,
# cargo-fuzz), builds every target, then runs each one from its seed corpus
# (fuzz/corpus/<target>, never written to) and its dictionary (fuzz/dict/, if
# any) into a working corpus, fuzz/run/<target>, that persists between runs on
# the same machine (log: fuzz/run/<target>.log). Exits non-zero on the first
# crash, panic, timeout or out-of-memory and prints the reproducer.
#
# Environment: WISMO_FUZZ_TOOLCHAIN (default nightly), WISMO_FUZZ_RSS_MB (2048),
# WISMO_FUZZ_MALLOC_MB (256), WISMO_FUZZ_TIMEOUT (seconds per input, 10).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds="${1:-10}"
shift || true
toolchain="${WISMO_FUZZ_TOOLCHAIN:-nightly}"
rss_mb="${WISMO_FUZZ_RSS_MB:-2048}"
malloc_mb="${WISMO_FUZZ_MALLOC_MB:-256}"
timeout_s="${WISMO_FUZZ_TIMEOUT:-10}"

step() { echo; echo "==> [fuzz $((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    step "install the $toolchain toolchain (cargo-fuzz needs -Z flags)"
    if ! rustup toolchain install "$toolchain" --profile minimal; then
        # No nightly to be had: stable, allowed its unstable flags.
        echo "no $toolchain toolchain; fuzzing on stable with RUSTC_BOOTSTRAP=1"
        toolchain=stable
        export RUSTC_BOOTSTRAP=1
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    step "install cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Fuzz the dependency versions the services ship with: start from the workspace's
# lock file (cargo adds libfuzzer-sys and drops what the targets do not use).
cp Cargo.lock fuzz/Cargo.lock

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

step "cargo fuzz build (${#targets[@]} targets)"
cargo "+$toolchain" fuzz build

for target in "${targets[@]}"; do
    step "fuzz $target for ${seconds}s"
    work="fuzz/run/$target"
    log="fuzz/run/$target.log"
    artifacts="fuzz/artifacts/$target"
    mkdir -p "$work" "$artifacts"
    dict=()
    if [ -f "fuzz/dict/$target.dict" ]; then
        dict=(-dict="fuzz/dict/$target.dict")
    fi
    # libFuzzer would cap inputs at the largest seed; give small-seed targets room.
    max_len=4096
    for seed in "fuzz/corpus/$target"/*; do
        size=$(wc -c <"$seed")
        if [ "$size" -gt "$max_len" ]; then max_len=$size; fi
    done
    marker="$(mktemp)"
    # New inputs go to the first corpus directory only, so the seeds stay as they are.
    if ! cargo "+$toolchain" fuzz run "$target" "$work" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" \
        -max_len="$max_len" \
        -rss_limit_mb="$rss_mb" \
        -malloc_limit_mb="$malloc_mb" \
        -timeout="$timeout_s" \
        -print_final_stats=1 ${dict[@]+"${dict[@]}"} >"$log" 2>&1; then
        tail -n 80 "$log"
        echo
        echo "fuzz target $target FAILED (full log: $log). Reproducer(s):"
        find "$artifacts" -type f -newer "$marker" -print | sed 's/^/  /'
        echo "Re-run one:  cargo +$toolchain fuzz run $target <file>"
        echo "Minimise it: cargo +$toolchain fuzz tmin $target <file>"
        rm -f "$marker"
        exit 1
    fi
    rm -f "$marker"
    grep -E '^(Done [0-9]+ runs|stat::(number_of_executed_units|peak_rss_mb|new_units_added))' "$log" |
        tr '\n' ' ' | tr -s ' '
    echo
done

step "no crash in ${#targets[@]} targets (${seconds}s each)"
