# One image for every Printwire part: the embedded broker, the web server, the relay, the printer simulator
# and the `printwire` command line. docker-compose.yml chooses the part with `command:` (`npm run relay`, ...);
# without a command the image prints the command line's help and exits.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Dependencies first, so that editing the sources does not reinstall them. tsx (runs the TypeScript sources)
# and esbuild (bundles the page when its sources change) are runtime dependencies, which --omit=dev keeps.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .

# The page's script, bundled once into node_modules/.cache/printwire (web/server/pageBundle.ts): the parts,
# which run as `node` and cannot write there, serve it from that cache without running esbuild at each start.
RUN npm run build:page

# Mount points of docker-compose.yml's volumes: a new named volume takes its mount point's owner.
# /printwire-auth belongs to uid 1883, the eclipse-mosquitto image's mosquitto user, who must read the
# 0600 password and ACL files written there; the relay's state, the ticket dumps and the embedded broker's
# data (`npm run broker`) to `node`, the user every part runs as but the web server: it reads the users file
# there too, so it runs as 1883 and keeps its data in /var/lib/printwire/web. The sources stay root's, read-only.
RUN mkdir -p /printwire-auth /var/lib/printwire/state /var/lib/printwire/tickets /var/lib/printwire/data /var/lib/printwire/web \
 && chown -R node:node /var/lib/printwire \
 && chown 1883:1883 /printwire-auth /var/lib/printwire/web

USER node
ENV STATE_DIR=/var/lib/printwire/state \
    DATA_DIR=/var/lib/printwire/data
CMD ["node", "bin/printwire.js", "--help"]
