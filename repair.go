package lockchat

import (
	"context"
	"log/slog"
	"slices"
	"strings"
)

// This file repairs a request a model rejects for one of lockchat's own parameters:
// OpenAI's reasoning models take only the default temperature and want
// max_completion_tokens for max_tokens, and some models may not be streamed by an
// organisation that is not verified. Such a 400, before any output, names the parameter;
// the request is changed and sent once more, and the Client remembers the change for
// that model at that endpoint (its base URL).

// The repairs of a request, reported in Completion.Repairs with Choice -1 and the
// parameter in Repair.Param.
const (
	// RepairParamDropped: the model rejected the parameter's value; it is no longer sent.
	RepairParamDropped = "unsupported parameter dropped"
	// RepairParamRenamed: the model wants the parameter under another name (max_tokens
	// as max_completion_tokens).
	RepairParamRenamed = "parameter renamed"
	// RepairStreamOff: the model may not be streamed; the answer is asked for whole, as
	// WithoutStreaming does.
	RepairStreamOff = "streaming turned off"
)

// requestRepair is one change to a request; a set of them is a bit mask.
type requestRepair uint8

const (
	dropTemperature requestRepair = 1 << iota
	renameMaxTokens
	streamOff
)

// repairFor returns the repair a 400 error asks for, 0 for none: the error names
// temperature, max_tokens or stream (as its param, or in its message when it has none)
// and says it is not supported. A parameter the caller set explicitly is never changed:
// the 400 is theirs.
func repairFor(cfg *config, e *APIError) requestRepair {
	if e == nil || e.StatusCode != 400 || e.InStream {
		return 0
	}
	msg := strings.ToLower(e.Message)
	unsupported := strings.HasPrefix(e.Code, "unsupported_") || strings.Contains(msg, "support") ||
		strings.Contains(msg, "verified to stream")
	if !unsupported {
		return 0
	}
	names := func(param string) bool {
		if e.Param != "" {
			return e.Param == param
		}
		return strings.Contains(msg, "'"+param+"'") || strings.Contains(msg, `"`+param+`"`) || strings.Contains(msg, "`"+param+"`")
	}
	switch {
	case names("temperature") && !cfg.temperatureSet && !slices.Contains(cfg.without, "temperature"):
		if _, explicit := cfg.params["temperature"]; !explicit {
			return dropTemperature
		}
	case names("max_tokens") && cfg.maxTokens > 0 && !cfg.maxCompletionTokens:
		return renameMaxTokens
	case names("stream") && !cfg.noStream:
		return streamOff
	}
	return 0
}

// apply returns cfg with the repairs r made, prepared again, or cfg itself when r
// changes nothing.
func (r requestRepair) apply(cfg *config) *config {
	if r == 0 {
		return cfg
	}
	n := *cfg
	if r&dropTemperature != 0 && !n.temperatureSet {
		if _, explicit := n.params["temperature"]; !explicit {
			n.without = append(slices.Clip(n.without), "temperature")
		}
	}
	if r&renameMaxTokens != 0 && n.maxTokens > 0 {
		n.maxCompletionTokens = true
	}
	if r&streamOff != 0 {
		n.noStream = true
	}
	n.prep, _ = n.prepare()
	return &n
}

// repairs lists the repairs of r for Completion.Repairs.
func (r requestRepair) repairs() []Repair {
	var out []Repair
	if r&dropTemperature != 0 {
		out = append(out, Repair{Choice: -1, Kind: RepairParamDropped, Param: "temperature", Count: 1})
	}
	if r&renameMaxTokens != 0 {
		out = append(out, Repair{Choice: -1, Kind: RepairParamRenamed, Param: "max_tokens", Count: 1})
	}
	if r&streamOff != 0 {
		out = append(out, Repair{Choice: -1, Kind: RepairStreamOff, Param: "stream", Count: 1})
	}
	return out
}

// repairKey names a model at an endpoint in Client.repairs: what one server rejects,
// another may take.
func repairKey(cfg *config, model string) string { return cfg.baseURL + "\x00" + model }

// remembered returns the repairs the client learnt for the model at the endpoint of cfg.
func (c *Client) remembered(cfg *config, model string) requestRepair {
	if !c.repaired.Load() {
		return 0 // the common case, without building a key
	}
	if v, ok := c.repairs.Load(repairKey(cfg, model)); ok {
		return v.(requestRepair)
	}
	return 0
}

// remember adds r to what the client knows of the model at the endpoint of cfg.
// Concurrent calls may each add theirs: the set only grows.
func (c *Client) remember(cfg *config, model string, r requestRepair) {
	key := repairKey(cfg, model)
	defer c.repaired.Store(true)
	for {
		old, loaded := c.repairs.LoadOrStore(key, r)
		if !loaded || c.repairs.CompareAndSwap(key, old, old.(requestRepair)|r) {
			return
		}
	}
}

func logRepair(ctx context.Context, l *slog.Logger, model string, r Repair, reason error) {
	if l == nil {
		return
	}
	l.LogAttrs(ctx, slog.LevelWarn, "lockchat: request repaired",
		slog.String("model", model),
		slog.String("param", r.Param),
		slog.String("repair", r.Kind),
		slog.String("reason", reason.Error()))
}
