# syntax=docker/dockerfile:1
# wismo: every binary in one image; a workload picks its own by command, e.g.
#   docker run IMAGE /usr/local/bin/order-tracker
# The runtime image is FROM scratch: the binaries, the shared libraries they link
# and a passwd entry (scripts/deploy/rootfs.sh, which the offline image build in
# scripts/validate-deploy.sh uses too). No shell; runs as 65532 on a read-only root.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS build
# librdkafka is built from source by rdkafka-sys: a C toolchain, zlib and OpenSSL.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
        -p scan-matcher -p order-tracker -p dispatcher -p replay -p wismoctl \
    && scripts/deploy/rootfs.sh target/release /rootfs

FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/bin
USER 65532:65532
WORKDIR /
EXPOSE 8080
CMD ["/usr/local/bin/wismoctl", "--help"]
