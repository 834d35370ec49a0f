package redisbroker

import (
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestBenchScriptIsTheBrokers: bench/redisclients, a module of its own
// that does not import the plugin, measures a copy of appendScript; the
// copy must be the script the broker runs.
func TestBenchScriptIsTheBrokers(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../bench/redisclients/script.go")
	if err != nil {
		t.Fatal(err)
	}
	const start = "const appendScript = `"
	i := strings.Index(string(src), start)
	if i < 0 {
		t.Fatal("no appendScript in bench/redisclients/script.go")
	}
	rest := string(src[i+len(start):])
	copied := rest[:strings.IndexByte(rest, '`')]
	if got, want := redis.NewScript(copied).Hash(), appendScript.Hash(); got != want {
		t.Fatalf("bench/redisclients/script.go's appendScript (SHA-1 %s) is not the broker's (%s)", got, want)
	}
}
