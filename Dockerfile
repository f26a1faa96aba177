# The one binary in a container: built in Rust's image, run in a small Debian one.
#   docker build -t cxray .
#   docker run -p 8080:8080 cxray demo --bind 0.0.0.0:8080   # the demo world, as README's first command
#   docker run -v cxray:/var/lib/cxray cxray init             # a data folder of your own, once;
#   docker run -p 8080:8080 -v cxray:/var/lib/cxray cxray     # then import into it and serve it
# The scaled setup (object store, PostgreSQL, a Ballista cluster, two servers):
# deploy/compose.yaml. The binary has the cluster feature (`cxray cluster …`, `--engine`);
# `--build-arg FEATURES=` builds it without.

FROM rust:1.94-bookworm AS build
ARG FEATURES=cxray/cluster
WORKDIR /src
COPY . .
# The registry and the build folder are cached between builds of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin cxray --features "$FEATURES" \
    && cp target/release/cxray /usr/local/bin/cxray

FROM debian:bookworm-slim
# ca-certificates: object stores and mail servers over TLS; chromium: the board pack's PDF.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates chromium \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/cxray cxray
COPY --from=build /usr/local/bin/cxray /usr/local/bin/cxray
USER cxray
WORKDIR /var/lib/cxray
ENV CXRAY_DATA=/var/lib/cxray/data \
    CXRAY_STATE=/var/lib/cxray/state \
    CXRAY_BIND=0.0.0.0:8080
VOLUME /var/lib/cxray
EXPOSE 8080
ENTRYPOINT ["cxray"]
CMD ["serve"]
