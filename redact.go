package lockchat

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file keeps credentials where they belong: it says which headers carry them, and
// takes every credential of a call out of the text its errors quote.

// redacted replaces a credential in the text of an error.
const redacted = "[redacted]"

// secrets are the credentials one call sends — the API key, the base URL's password,
// the values of credential headers — each in every form in which a server, a proxy or
// an error may quote it back: as sent, JSON-escaped, URL-escaped.
type secrets []string

// callSecrets returns the credentials cfg sends.
func callSecrets(cfg *config) secrets {
	var s secrets
	s = s.add(cfg.apiKey)
	if user, password, ok := urlPassword(cfg.baseURL); ok {
		s = s.add(password)
		s = s.add(base64.StdEncoding.EncodeToString([]byte(user + ":" + password))) // as Basic auth
	}
	for _, v := range queryCredentials(cfg.baseURL) {
		s = s.add(v)
	}
	for name, values := range cfg.header {
		if !isCredentialName(name) {
			continue
		}
		for _, v := range values {
			s = s.add(v)
			if _, token, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
				s = s.add(strings.TrimSpace(token)) // the credential of "Bearer TOKEN"
			}
		}
	}
	// Longest first, so that a secret holding another is replaced whole.
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// add returns s with v and its quoted forms, if v is not empty.
func (s secrets) add(v string) secrets {
	if v == "" {
		return s
	}
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, string(b[1:len(b)-1])) // HTML-safe, as encoding/json escapes
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		q := strings.TrimSuffix(b.String(), "\n")
		forms = append(forms, q[1:len(q)-1])
	}
	for _, f := range forms {
		if !slices.Contains(s, f) {
			s = append(s, f)
		}
	}
	return s
}

// scrub returns text with every secret replaced by "[redacted]". A secret an excerpt
// cut in two ends, just before the cut mark "…", in a prefix of itself: that prefix is
// replaced too. Text already redacted is left as it is, so scrubbing twice changes
// nothing.
func (s secrets) scrub(text string) string {
	if len(s) == 0 || text == "" {
		return text
	}
	parts := strings.Split(text, redacted)
	for i, p := range parts {
		for _, secret := range s {
			p = strings.ReplaceAll(p, secret, redacted)
		}
		parts[i] = s.scrubCuts(p)
	}
	return strings.Join(parts, redacted)
}

// scrubCuts replaces the prefix of a secret that ends right before a cut mark.
func (s secrets) scrubCuts(text string) string {
	if !strings.Contains(text, cutMark) {
		return text
	}
	var b strings.Builder
	for {
		head, rest, cut := strings.Cut(text, cutMark)
		longest := 0 // the longest secret prefix head ends in
		for _, secret := range s {
			for k := min(len(secret)-1, len(head)); k > longest; k-- {
				if strings.HasSuffix(head, secret[:k]) {
					longest = k
					break
				}
			}
		}
		if longest > 0 {
			head = head[:len(head)-longest] + redacted
		}
		b.WriteString(head)
		if !cut {
			return b.String()
		}
		b.WriteString(cutMark)
		text = rest
	}
}

// scrubbable is an error whose text quotes what came from outside: a server's words, a
// transport's account, a URL.
type scrubbable interface{ scrub(secrets) }

// scrubError takes the secrets out of every error in err's chain, in place. It never
// wraps: what the error is — errStop, a sentinel, a type — stays what it was.
func (s secrets) scrubError(err error) {
	if len(s) == 0 {
		return
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if x, ok := e.(scrubbable); ok {
			x.scrub(s)
		}
	}
}

// credentialWords mark a header or query parameter name as carrying a credential:
// Authorization, Cookie, Api-Key (Azure), X-Api-Key (Anthropic), X-Goog-Api-Key,
// Ocp-Apim-Subscription-Key, X-Auth-Token, and ?key= (Gemini), ?api-key=, ?token=,
// ?access_token=, ?sig= (Azure SAS) and the like.
var credentialWords = []string{"auth", "key", "token", "secret", "password", "passwd", "cookie", "credential", "session", "signature"}

// isCredentialName reports whether a header or query parameter of that name carries a
// credential. The short query name "sig" (a signature) is one too.
func isCredentialName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return name == "sig"
}

// dropCredentials deletes the headers that carry credentials.
func dropCredentials(h http.Header) {
	for name := range h {
		if isCredentialName(name) {
			delete(h, name)
		}
	}
}

// urlPassword returns the user and password of an absolute URL's userinfo, reading the
// raw text even when it does not parse. A password with a "/" it should have escaped
// ends the authority early for a URL parser, but is a password all the same: when the
// authority holds no "@", the last "@" before the query is taken to end the userinfo.
func urlPassword(raw string) (user, password string, ok bool) {
	_, rest, found := strings.Cut(raw, "://")
	if !found {
		return "", "", false
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			rest = rest[:i]
		}
		at = strings.LastIndex(rest, "@")
	}
	if at < 0 {
		return "", "", false
	}
	return strings.Cut(rest[:at], ":")
}

// RedactURL returns raw as lockchat shows a URL in errors, log records and traces: the
// password of its userinfo and the values of query parameters whose names say they
// carry a credential (key, api-key, token, sig, …) replaced by "xxxxx", even when raw
// does not parse.
func RedactURL(raw string) string { return maskURL(raw) }

// maskURL is RedactURL.
func maskURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		u.RawQuery = maskQuery(u.RawQuery)
		return u.Redacted()
	}
	if user, password, ok := urlPassword(raw); ok && password != "" {
		raw = strings.Replace(raw, user+":"+password+"@", user+":xxxxx@", 1)
	}
	if head, query, ok := strings.Cut(raw, "?"); ok {
		query, fragment, hasFragment := strings.Cut(query, "#")
		raw = head + "?" + maskQuery(query)
		if hasFragment {
			raw += "#" + fragment
		}
	}
	return raw
}

// maskQuery returns a raw query with the values of credential parameters replaced by
// "xxxxx", everything else as it was.
func maskQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	for i, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if ok && value != "" && isCredentialName(queryName(name)) {
			parts[i] = name + "=xxxxx"
		}
	}
	return strings.Join(parts, "&")
}

// queryName returns a query parameter's name unescaped, or as written if it does not
// unescape.
func queryName(name string) string {
	if n, err := url.QueryUnescape(name); err == nil {
		return n
	}
	return name
}

// queryCredentials returns the values of the credential parameters of a URL's query.
func queryCredentials(raw string) []string {
	_, query, ok := strings.Cut(raw, "?")
	if !ok {
		return nil
	}
	query, _, _ = strings.Cut(query, "#")
	var values []string
	for _, p := range strings.Split(query, "&") {
		name, value, ok := strings.Cut(p, "=")
		if !ok || value == "" || !isCredentialName(queryName(name)) {
			continue
		}
		values = append(values, value) // as written, which is how a server may quote it
		if v, err := url.QueryUnescape(value); err == nil && v != value {
			values = append(values, v)
		}
	}
	return values
}
