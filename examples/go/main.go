// Command chat sends one chat completion through byok-proxy, in the spirit of the original
// Kite CLI: it never sees a provider key, the proxy injects the user's own. When the proxy
// cannot be reached, or has no Cerebras key for this caller (provider_key_missing), it falls
// back to CEREBRAS_API_KEY sent straight to Cerebras, and says so.
//
//	BACKEND_URL=http://localhost:8080 BYOK_TOKEN=byok_... go run . "Say hello"
//
// Standard library only.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func env(name, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return fallback
}

// unreachableError is a transport failure: no HTTP answer at all.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }

// apiError is an answer in the OpenAI error envelope, which byok-proxy uses on /v1.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

type reply struct {
	answer    string
	keySource string
}

var client = &http.Client{Timeout: 2 * time.Minute}

// chat posts one user message to {baseURL}/v1/chat/completions.
func chat(baseURL, key, model, prompt string) (*reply, error) {
	body, err := json.Marshal(map[string]any{
		"model":    model,
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("authorization", "Bearer "+key)
	res, err := client.Do(req)
	if err != nil {
		return nil, &unreachableError{err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, &unreachableError{err}
	}
	if res.StatusCode >= 300 {
		var envelope struct {
			Error struct {
				Message string `json:"message"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &envelope)
		e := &apiError{status: res.StatusCode, message: envelope.Error.Message}
		if code, ok := envelope.Error.Code.(string); ok {
			e.code = code
		}
		if e.message == "" {
			e.message = fmt.Sprintf("HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(raw)))
		}
		return nil, e
	}
	var completion struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &completion); err != nil || len(completion.Choices) == 0 {
		return nil, fmt.Errorf("unexpected answer from %s: %s", baseURL, strings.TrimSpace(string(raw)))
	}
	source := res.Header.Get("x-byok-key-source")
	if source == "" {
		source = "unknown"
	}
	return &reply{answer: completion.Choices[0].Message.Content, keySource: source}, nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	backend := strings.TrimRight(env("BACKEND_URL", "http://localhost:8080"), "/")
	token := env("BYOK_TOKEN", "")
	model := env("MODEL", "llama-3.3-70b")
	prompt := "Say hello in one short sentence."
	if len(os.Args) > 1 {
		prompt = strings.Join(os.Args[1:], " ")
	}
	cerebrasURL := strings.TrimRight(env("CEREBRAS_BASE_URL", "https://api.cerebras.ai"), "/")

	r, err := chat(backend, token, "cerebras/"+model, prompt)
	if err == nil {
		fmt.Printf("answer: %s\nkey source: %s (byok-proxy at %s)\n", r.answer, r.keySource, backend)
		return
	}

	var down *unreachableError
	var refused *apiError
	switch {
	case errors.As(err, &down):
		fmt.Fprintf(os.Stderr, "byok-proxy at %s is unreachable (%v); falling back to CEREBRAS_API_KEY at %s\n", backend, down.err, cerebrasURL)
	case errors.As(err, &refused) && refused.code == "provider_key_missing":
		fmt.Fprintf(os.Stderr, "byok-proxy has no Cerebras key for this token (provider_key_missing); falling back to CEREBRAS_API_KEY at %s\n", cerebrasURL)
	case errors.As(err, &refused) && refused.code == "unauthorized":
		fail("byok-proxy did not accept BYOK_TOKEN: %s\nSet BYOK_TOKEN to a JWT (dev mode: npm run -s token -- --sub <you>) or a byok_ access token from the settings page.", refused.message)
	default:
		fail("%v", err)
	}

	key := env("CEREBRAS_API_KEY", "")
	if key == "" {
		fail("CEREBRAS_API_KEY is not set, so there is no key to fall back to. Add your Cerebras key on the settings page (%s/) or set CEREBRAS_API_KEY.", backend)
	}
	r, err = chat(cerebrasURL, key, model, prompt)
	if err != nil {
		var rejected *apiError
		if errors.As(err, &rejected) && (rejected.status == 401 || rejected.status == 403) {
			fail("Cerebras rejected CEREBRAS_API_KEY (HTTP %d): check the key. Cerebras said: %s", rejected.status, rejected.message)
		}
		fail("%v", err)
	}
	fmt.Printf("answer: %s\nkey source: CEREBRAS_API_KEY (direct to %s, not through byok-proxy)\n", r.answer, cerebrasURL)
}
