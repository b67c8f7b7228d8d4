# otpctl as a container's init (PID 1): it runs the tree, reaps orphans and stops the
# tree in order on SIGTERM. The image runs examples/stack.yaml; mount your own tree at
# /etc/otpctl/tree.yaml (or pass another FILE as the command).
#
#   docker build -t otpctl .
#   docker run -d --name stack otpctl
#   docker exec stack otpctl tree
#   docker stop -t 30 stack             # SIGTERM: the tree stops in reverse order
#
# See README.md, section Deploy.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# The modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary (no cgo), without the build machine's paths; VERSION, if given
# (--build-arg VERSION=v0.3.0), is what `otpctl --version` prints.
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/otpctl/otpctl/cli.Version=${VERSION}" -o /out/otpctl ./cmd/otpctl

# The exec children need a shell and what they run: examples/stack.yaml runs sh, sleep
# and python3 (http.server). A tree of Go kinds only could use a distroless image.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin otpctl
COPY --from=build /out/otpctl /usr/local/bin/otpctl
COPY examples/stack.yaml /etc/otpctl/tree.yaml
# The example's children need no privilege (port 18080): run them as a user.
USER otpctl
# otpctl stops the tree in order on SIGTERM; `docker stop -t` must cover the tree's
# shutdown times (stack.yaml: 5s for web, 5s for worker).
STOPSIGNAL SIGTERM
# Healthy when every permanent child is running and healthy (GET /readyz on the
# control socket).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/otpctl", "health", "--ready"]
ENTRYPOINT ["/usr/local/bin/otpctl", "run"]
CMD ["/etc/otpctl/tree.yaml"]
