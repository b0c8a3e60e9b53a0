package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lockchat/lockchat"
)

// This file turns the command line and the environment into settings, and checks them.

// settings are what the command line and the environment ask for.
type settings struct {
	model        string
	baseURL      string
	apiKey       string
	fallbacks    []fallback // -fallback: endpoints asked, in order, when the base URL fails
	insecureHTTP bool       // -insecure-http: credentials may go over plain http to any host
	system       string
	temperature  float64
	retries      int
	timeout      time.Duration // per answer; 0 for none
	idleTimeout  time.Duration
	maxTokens    int // 0: not sent
	// temperatureSet: -temperature was given, so it is sent as the user's own, never
	// dropped for a model that rejects it; noTemperature: -no-temperature.
	temperatureSet, noTemperature bool
	schemaFile                    string // -schema: a JSON schema the answer must follow
	schema                        []byte // its content
	listModels                    bool   // -models: list the server's models and exit
	loadFile                      string // -load: a saved conversation to go on with
	loaded                        []lockchat.Message
	defaultModel                  bool // no -model, LOCKCHAT_MODEL or saved model: lockchat's own default
	noHistory                     bool // -no-history: the chat's lines are not kept in a file
	params                        []param
	headers                       []header
	json                          bool
	verbose                       bool
	verboseSet                    bool // -verbose was given, true or false
	hideReasoning                 bool
	demo                          bool
	version                       bool
	prompt                        string // the arguments, joined by spaces
}

// fallback is one -fallback: an endpoint the chat fails over to, with its own key (read
// from the environment variable its key-env names, never from the command line, where other
// users of the machine can read it) and its own name for the model.
type fallback struct {
	baseURL, apiKey, model string
}

// param is one -param: a payload field and its value.
type param struct {
	key   string
	value any // a json.RawMessage when the text parses as JSON, else a string
}

// header is one -header.
type header struct{ name, value string }

// listFlag collects the values of a repeatable flag. They are checked after parsing,
// by code that never quotes them: a header may carry a credential.
type listFlag []string

// String returns "": flag.PrintDefaults shows no default for a list.
func (l *listFlag) String() string { return "" }

// Set adds one value.
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// durationFlag is a duration flag whose error says what to write: a number without a
// unit ("-timeout 5") gets "use 5s".
type durationFlag struct{ d *time.Duration }

// String returns the duration; flag.PrintDefaults calls it on the zero durationFlag too.
func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

// Set reads a duration such as 30s or 1h30m.
func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return fmt.Errorf("a duration needs a unit: use %ss", s)
		}
		return errors.New("want a duration such as 30s, 2m or 1h30m")
	}
	*f.d = d
	return nil
}

// errUsage reports bad usage: parseSettings has already said what was wrong.
var errUsage = errors.New("lockchat: bad usage")

// parseSettings reads the flags in args and the environment. For -h it writes the usage
// to stdout and returns flag.ErrHelp. For bad usage it writes what is wrong, one line
// each, and the hint to run -h, to stderr, and returns errUsage.
func parseSettings(args []string, getenv func(string) string, stdout, stderr io.Writer) (*settings, error) {
	var s settings
	var params, headers, fallbacks listFlag
	fs := flag.NewFlagSet("lockchat", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the errors and the usage are written below
	fs.Usage = func() {}
	fs.StringVar(&s.model, "model", "", "model `name` (default $LOCKCHAT_MODEL, the model of a -load file, "+lockchat.ModelGPT35Turbo+")")
	// The defaults of -base-url and -api-key are filled in after parsing, so that -h never
	// shows what the environment holds (a key, or a URL with a password in it).
	fs.StringVar(&s.baseURL, "base-url", "", "API base `URL` (default $LOCKCHAT_BASE_URL, $OPENAI_BASE_URL, "+lockchat.DefaultBaseURL+")")
	fs.StringVar(&s.apiKey, "api-key", "", "API `key` sent as a bearer token (default $LOCKCHAT_API_KEY, or $OPENAI_API_KEY with a base URL that is not the default)")
	fs.Var(&fallbacks, "fallback", "another endpoint, asked when the base URL fails before answering, as `URL[,model=NAME][,key-env=VAR]`: NAME is its name for the model, VAR the environment variable holding its API key; -header goes to it too, but for credential headers (repeatable, asked in order)")
	fs.BoolVar(&s.insecureHTTP, "insecure-http", false, "allow sending the API key or a credential header over plain http:// to a host that is not this machine")
	fs.StringVar(&s.system, "system", "", "system `message` sent before the conversation")
	fs.Float64Var(&s.temperature, "temperature", lockchat.DefaultTemperature, "sampling temperature")
	fs.IntVar(&s.maxTokens, "max-tokens", 0, "longest answer in tokens, sent as max_tokens (0: not sent)")
	fs.BoolVar(&s.noTemperature, "no-temperature", false, "send no temperature, for models that take only their own")
	fs.StringVar(&s.schemaFile, "schema", "", "JSON schema `file` the answer must follow (response_format json_schema, strict)")
	fs.BoolVar(&s.listModels, "models", false, "list the server's models and exit")
	fs.StringVar(&s.loadFile, "load", "", "go on with the conversation saved in `file` (by /save in the chat): as a chat, or with a prompt, one more answer")
	fs.BoolVar(&s.noHistory, "no-history", false, "do not read or write the chat's history file ($XDG_STATE_HOME/lockchat/history)")
	fs.Var(&params, "param", "extra payload field as `key=value`, the value read as JSON when it parses, else a string (repeatable)")
	fs.Var(&headers, "header", "extra request header as `\"Name: value\"` (repeatable)")
	fs.IntVar(&s.retries, "retries", lockchat.DefaultMaxRetries, "retries before the first token")
	fs.Var(durationFlag{&s.timeout}, "timeout", "time limit for each answer, a `duration` such as 30s (0: none)")
	s.idleTimeout = lockchat.DefaultIdleTimeout
	fs.Var(durationFlag{&s.idleTimeout}, "idle-timeout", "longest `duration` of silence from the server before it counts as stalled (0: none)")
	fs.BoolVar(&s.json, "json", false, "print every chunk, then the assembled completion, as one JSON object per line")
	fs.BoolVar(&s.verbose, "verbose", false, "after each answer, print time to first token, total time, speed and usage to standard error")
	fs.BoolVar(&s.hideReasoning, "hide-reasoning", false, "do not show the model's reasoning")
	fs.BoolVar(&s.demo, "demo", false, "answer from an in-process fake server (no network): in a terminal a chat that shows -verbose statistics, else one answer")
	fs.BoolVar(&s.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, stdout)
			return nil, err
		}
		// The flag package's error names the flag and quotes a value it cannot read, as
		// typed: one line, so that it does not scroll away.
		fmt.Fprintln(stderr, "lockchat:", stripAll(err.Error()))
		fmt.Fprintln(stderr, "Run lockchat -h for the flags.")
		return nil, errUsage
	}
	modelSet := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "verbose":
			s.verboseSet = true
		case "temperature":
			s.temperatureSet = true
		case "model":
			modelSet = true
		}
	})
	var problems []string
	savedModel := ""
	if s.loadFile != "" {
		conv, err := loadConversation(s.loadFile)
		if err != nil {
			problems = append(problems, "-load: "+stripAll(strings.TrimPrefix(err.Error(), "lockchat: ")))
		}
		s.loaded, savedModel = conv.Messages, conv.Model
	}
	if !modelSet {
		s.model = firstSet(getenv("LOCKCHAT_MODEL"), savedModel)
		if s.model == "" {
			s.model, s.defaultModel = lockchat.ModelGPT35Turbo, true
		}
	}
	s.prompt = strings.Join(fs.Args(), " ")
	s.baseURL = firstSet(s.baseURL, getenv("LOCKCHAT_BASE_URL"), getenv("OPENAI_BASE_URL"))
	// OPENAI_API_KEY is set on many machines for OpenAI itself: it is sent only to a
	// server the user chose, never to the Lockchat default.
	openAIKey := ""
	if s.baseURL != "" {
		openAIKey = getenv("OPENAI_API_KEY")
	}
	s.baseURL = firstSet(s.baseURL, lockchat.DefaultBaseURL)
	s.apiKey = firstSet(s.apiKey, getenv("LOCKCHAT_API_KEY"), openAIKey)

	if s.retries < 0 || s.timeout < 0 || s.idleTimeout < 0 || s.maxTokens < 0 {
		problems = append(problems, "-retries, -timeout, -idle-timeout and -max-tokens must not be negative")
	}
	if s.model == "" {
		problems = append(problems, "-model must not be empty")
	}
	if s.noTemperature && s.temperatureSet {
		problems = append(problems, "-temperature and -no-temperature cannot go together")
	}
	if s.schemaFile != "" {
		b, err := os.ReadFile(s.schemaFile)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("-schema: %v", err))
		case !json.Valid(b):
			problems = append(problems, fmt.Sprintf("-schema: %s is not valid JSON", s.schemaFile))
		default:
			s.schema = b
		}
	}
	if err := checkBaseURL(s.baseURL); err != nil {
		problems = append(problems, err.Error())
	}
	for i, p := range params {
		pv, err := parseParam(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-param number %d: %v", i+1, err))
			continue
		}
		s.params = append(s.params, pv)
	}
	for i, f := range fallbacks {
		fb, err := parseFallback(f, getenv)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-fallback number %d: %v", i+1, err))
			continue
		}
		s.fallbacks = append(s.fallbacks, fb)
	}
	for i, h := range headers {
		hv, err := parseHeader(h)
		if err != nil {
			problems = append(problems, fmt.Sprintf("-header number %d: %v", i+1, err))
			continue
		}
		s.headers = append(s.headers, hv)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "lockchat:", p)
		}
		fmt.Fprintln(stderr, "Run lockchat -h for the flags.")
		return nil, errUsage
	}
	return &s, nil
}

// usage writes what -h shows: how the modes are chosen, the flags, the environment
// and the exit statuses.
func usage(fs *flag.FlagSet, w io.Writer) {
	fs.SetOutput(w)
	fmt.Fprint(w, `usage: lockchat [flags] [prompt...]

With no prompt and standard input a terminal, lockchat starts a chat (/help lists its
commands). Otherwise it sends one prompt and streams the answer: the prompt is the
arguments, or standard input, or both (the arguments, a blank line, then standard input,
when standard input delivers something or its end within a second).

Flags:
`)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Environment:
  LOCKCHAT_BASE_URL, then OPENAI_BASE_URL   the API base URL when -base-url is not given
  LOCKCHAT_API_KEY, then OPENAI_API_KEY     the API key when -api-key is not given (OPENAI_API_KEY
                                            only with -base-url, LOCKCHAT_BASE_URL or OPENAI_BASE_URL)
  LOCKCHAT_MODEL                            the model when -model is not given
  XDG_STATE_HOME, else HOME                 the chat's history is kept in $XDG_STATE_HOME/lockchat/history,
                                            else ~/.local/state/lockchat/history (see -no-history)
  NO_COLOR                                  show reasoning with a label, not dimmed

Exit status: 0 done, 1 error, 2 bad usage, 130 interrupted (Ctrl-C).
`)
}

// secrets returns the credentials the settings send: the API keys and the values of
// credential headers, which the chat's history never keeps.
func (s *settings) secrets() []string {
	var out []string
	for _, e := range s.endpoints() {
		out = append(out, e.apiKey)
		if u, err := url.Parse(e.baseURL); err == nil && u.User != nil {
			p, _ := u.User.Password()
			out = append(out, p, u.User.Username())
		}
	}
	for _, h := range s.headers {
		if isCredentialHeaderName(h.name) {
			out = append(out, h.value)
			if _, token, ok := strings.Cut(h.value, " "); ok {
				out = append(out, strings.TrimSpace(token)) // the credential of "Bearer TOKEN", "Basic …"
			}
		}
	}
	return out
}

// endpoints returns the base URL with its key, then each -fallback.
func (s *settings) endpoints() []fallback {
	return append([]fallback{{baseURL: s.baseURL, apiKey: s.apiKey}}, s.fallbacks...)
}

// firstSet returns the first non-empty value.
func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// checkBaseURL accepts an http:// or https:// URL with a host. Its error names the URL
// masked (see maskedBaseURL), and for one without a scheme says what to write.
func checkBaseURL(base string) error {
	u, err := url.Parse(base)
	switch {
	case !strings.Contains(base, "://"):
		m := maskedBaseURL(base)
		return fmt.Errorf("the base URL %q has no scheme: write http://%s or https://%s", m, m, m)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("the base URL %q must be an http:// or https:// URL with a host", maskedBaseURL(base))
	}
	return nil
}

// maskedBaseURL is a base URL that may not parse, shown without what may be a
// credential: the password, or the whole user part when it has no password (a token
// given as the user), and the whole query. It is stripped of control characters.
func maskedBaseURL(base string) string {
	scheme, rest, ok := strings.Cut(base, "://")
	if !ok {
		scheme, rest = "", base
	} else {
		scheme += "://"
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if !hasPassword || strings.ContainsAny(user, "/?#") {
			user = "xxxxx"
		} else {
			user += ":xxxxx"
		}
		rest = user + rest[at:]
	}
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		rest = rest[:q] + "?xxxxx"
	}
	return stripAll(scheme + rest)
}

// reservedKeys are payload fields that every request sets itself.
var reservedKeys = map[string]string{
	"model":    "use -model",
	"messages": "the conversation is sent there",
	"stream":   "lockchat always streams",
}

// parseParam reads "key=value". The value is sent as JSON when it is valid JSON (a
// number, true, null, an object…), else as a string: -param top_p=0.9 sends a number,
// -param user=alice a string, -param 'user="42"' the string "42".
func parseParam(s string) (param, error) {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return param{}, errors.New(`want key=value`)
	}
	if why, reserved := reservedKeys[key]; reserved {
		return param{}, fmt.Errorf("%q cannot be set: %s", key, why)
	}
	if json.Valid([]byte(value)) {
		return param{key: key, value: json.RawMessage(value)}, nil
	}
	return param{key: key, value: value}, nil
}

// parseFallback reads "URL[,model=NAME][,key-env=VAR]": the settings that follow the URL
// are the trailing comma-separated parts that start with model= or key-env=, so a URL
// may hold commas of its own. Its errors never quote a key.
func parseFallback(v string, getenv func(string) string) (fallback, error) {
	var f fallback
	keyEnv := ""
	parts := strings.Split(v, ",")
	end := len(parts) // parts[:end] is the URL
settings:
	for ; end > 1; end-- {
		name, value, _ := strings.Cut(parts[end-1], "=")
		switch strings.TrimSpace(name) {
		case "model":
			f.model = strings.TrimSpace(value)
		case "key-env":
			keyEnv = strings.TrimSpace(value)
		default:
			break settings // not a setting: it ends the URL
		}
	}
	f.baseURL = strings.TrimSpace(strings.Join(parts[:end], ","))
	if err := checkBaseURL(f.baseURL); err != nil {
		return f, err
	}
	if keyEnv != "" {
		if f.apiKey = getenv(keyEnv); f.apiKey == "" {
			return f, fmt.Errorf("the environment variable %s, named by key-env, is not set", stripAll(keyEnv))
		}
	}
	return f, nil
}

// parseHeader reads "Name: value". Its errors name the header but never quote its value.
func parseHeader(s string) (header, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok || !isToken(name) {
		return header{}, errors.New(`want "Name: value", with a name of letters, digits and -`)
	}
	value = strings.TrimSpace(value)
	for _, r := range value {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return header{}, fmt.Errorf("the value of %s holds a control character", name)
		}
	}
	return header{name: name, value: value}, nil
}

// isToken reports whether s is an HTTP header name (RFC 9110's token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)
		if !ok {
			return false
		}
	}
	return true
}

// plainHTTPProblem says what is wrong when a credential would cross the network
// unencrypted — a key, or a credential header, sent over http:// to a host that is not
// this machine, by the base URL or a -fallback: an error without -insecure-http, a
// warning with it. Both are "" when nothing would.
func plainHTTPProblem(s *settings) (refusal, warning string) {
	headerCredential := false
	for _, h := range s.headers {
		if isCredentialHeaderName(h.name) {
			headerCredential = true
		}
	}
	for i, e := range s.endpoints() {
		u, err := url.Parse(e.baseURL)
		credential := e.apiKey != "" || headerCredential && i == 0 // credential headers go to the base URL alone
		if !credential || err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
			continue
		}
		host := stripAll(u.Host)
		if !s.insecureHTTP {
			return fmt.Sprintf("lockchat: refusing to send the API key over plain http:// to %s, where anyone on the way can read it: use an https:// base URL, or -insecure-http to send it anyway", host), ""
		}
		return "", fmt.Sprintf("lockchat: warning: the API key goes unencrypted over plain http:// to %s (-insecure-http)", host)
	}
	return "", ""
}

// isCredentialHeaderName reports whether a header of that name carries a credential, by
// the words the library looks for (Authorization, Api-Key, X-Api-Key, …-Token, Cookie).
func isCredentialHeaderName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"auth", "key", "token", "secret", "password", "passwd", "cookie", "credential", "session", "signature"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayURL is the base URL without its user and password, for the chat's banner.
func displayURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return "the server"
	}
	u.User = nil
	return stripAll(lockchat.RedactURL(u.String())) // credential query values masked too
}

// clientOptions are the options of the client the settings describe.
func (s *settings) clientOptions(logger lockchat.Option) []lockchat.Option {
	opts := []lockchat.Option{
		lockchat.WithBaseURL(s.baseURL),
		lockchat.WithAPIKey(s.apiKey),
		lockchat.WithMaxRetries(s.retries),
		lockchat.WithIdleTimeout(s.idleTimeout),
		logger,
	}
	shared := s.headers // the headers every endpoint gets
	if s.fallbacks != nil {
		// A credential header (-header "api-key: …") is the base URL's: a fallback gets
		// only its own key.
		primary := lockchat.Endpoint{BaseURL: s.baseURL, APIKey: s.apiKey}
		shared = nil
		for _, h := range s.headers {
			if !isCredentialHeaderName(h.name) {
				shared = append(shared, h)
				continue
			}
			if primary.Header == nil {
				primary.Header = http.Header{}
			}
			primary.Header.Add(h.name, h.value)
		}
		endpoints := []lockchat.Endpoint{primary}
		for _, f := range s.fallbacks {
			endpoints = append(endpoints, lockchat.Endpoint{BaseURL: f.baseURL, APIKey: f.apiKey, Model: f.model})
		}
		opts = append(opts, lockchat.WithEndpoints(endpoints...))
	}
	if s.insecureHTTP {
		opts = append(opts, lockchat.WithInsecureHTTP())
	}
	if s.verbose {
		opts = append(opts, lockchat.WithUsage())
	}
	switch {
	case s.noTemperature:
		opts = append(opts, lockchat.WithoutParam("temperature"))
	case s.temperatureSet:
		opts = append(opts, lockchat.WithTemperature(s.temperature))
	}
	if s.maxTokens > 0 {
		opts = append(opts, lockchat.WithMaxTokens(s.maxTokens))
	}
	if s.schema != nil {
		name := strings.TrimSuffix(filepath.Base(s.schemaFile), filepath.Ext(s.schemaFile))
		opts = append(opts, lockchat.WithJSONSchema(schemaName(name), s.schema, true))
	}
	for _, p := range s.params {
		opts = append(opts, lockchat.WithParam(p.key, p.value)) // after -max-tokens: -param wins
	}
	for _, h := range shared {
		opts = append(opts, lockchat.WithHeader(h.name, h.value))
	}
	return opts
}

// schemaName makes a file's name a schema name OpenAI takes: letters, digits, "_" and
// "-", at most 64 of them.
func schemaName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		return "answer"
	}
	return string(b)
}
