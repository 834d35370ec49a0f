package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The subscription check that Caddy's forward_auth asks before every
// request to a push stream subscriber location (README, "Private
// channels"). Caddy sends the subscriber's request headers (its Cookie
// among them) and the request line in X-Forwarded-Method and
// X-Forwarded-Uri; 2xx lets the request through to the subscriber, any
// other answer goes back to the client instead.

// subscriberPrefixes are the subscriber locations of the Caddyfile.
var subscriberPrefixes = []string{"/events/ws/", "/events/ev/", "/events/lp/", "/events/sub/"}

// channelSegment is one channel of a subscriber path, with its optional
// backtrack: only the example's channel names, nothing the push stream
// module would decode a second time (docs/PROTOCOL.md §2.1).
var channelSegment = regexp.MustCompile(`^(global|project-[1-9][0-9]{0,17}|user-[1-9][0-9]{0,17}|private-([1-9][0-9]{0,17}))(\.b[0-9]+)?$`)

// checkSubscription answers forward_auth: 204 when every channel of the
// forwarded subscriber path is public or the logged-in user's own private
// channel, 403 otherwise. It reads nothing but the cookie and the
// forwarded URI, so it is cheap: one map lookup and a regexp per channel.
func (s *Sessions) checkSubscription(w http.ResponseWriter, r *http.Request) {
	channels, ok := subscribedChannels(r.Header.Get("X-Forwarded-Uri"))
	if !ok {
		writeError(w, http.StatusForbidden, "not a subscriber path of this site")
		return
	}
	user, loggedIn := s.User(r)
	for _, m := range channels {
		if m[2] == "" {
			continue // a public channel
		}
		if !loggedIn {
			writeError(w, http.StatusForbidden, "log in to subscribe to "+m[1])
			return
		}
		if owner, err := strconv.ParseInt(m[2], 10, 64); err != nil || owner != user.ID {
			writeError(w, http.StatusForbidden, m[1]+" is not yours")
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// subscribedChannels parses the channels of a forwarded subscriber URI as
// Caddy does before the subscriber sees them: the path, percent-decoded
// once, after a subscriber prefix, split at "/". Anything that is not
// one of the example's channel names refuses the whole request.
func subscribedChannels(uri string) ([][]string, bool) {
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, false
	}
	for _, prefix := range subscriberPrefixes {
		rest, found := strings.CutPrefix(u.Path, prefix)
		if !found {
			continue
		}
		var channels [][]string
		for _, segment := range strings.Split(rest, "/") {
			m := channelSegment.FindStringSubmatch(segment)
			if m == nil {
				return nil, false
			}
			channels = append(channels, m)
		}
		return channels, true
	}
	return nil, false
}
