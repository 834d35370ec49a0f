# Production image: Caddy built with xcaddy and this plugin, the same way an
# nginx build got the push stream module compiled in.
#
#   docker build -f xcaddy.Dockerfile -t caddy-pushstream .
#   docker run -p 8080:8080 caddy-pushstream
#
# To use a published version instead of this checkout, replace the --with
# argument by github.com/caddy-pushstream/caddy-pushstream@<version>.
FROM caddy:2.11.9-builder AS builder
COPY . /src/caddy-pushstream
RUN xcaddy build v2.11.9 \
	--with github.com/caddy-pushstream/caddy-pushstream@v0.0.0-00010101000000-000000000000=/src/caddy-pushstream

FROM caddy:2.11.9
COPY --from=builder /usr/bin/caddy /usr/bin/caddy
COPY examples/Caddyfile /etc/caddy/Caddyfile
EXPOSE 8080
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
