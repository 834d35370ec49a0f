package pushstream

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayers keeps the layers of the package comment: a lower layer never
// imports a higher one, the engine stays free of HTTP, Caddy and
// logging, and the Redis broker uses the engine (and the operator log's
// rate limit) only.
func TestLayers(t *testing.T) {
	t.Parallel()
	const module = "github.com/caddy-pushstream/caddy-pushstream/"
	forbidden := map[string][]string{
		"engine":      {module, "net/http", "github.com/caddyserver/", "go.uber.org/zap"},
		"transport":   {module + "pushstream", "github.com/caddyserver/", "go.uber.org/zap", "net/http"},
		"wire":        {module + "pushstream/transport", "github.com/caddyserver/", "go.uber.org/zap", "net/http"},
		"redisbroker": {module, "github.com/caddyserver/", "net/http"},
	}
	allowed := map[string][]string{
		"engine":      {module + "pushstream/internal/jsontext"},
		"transport":   {module + "pushstream/transport/internal/netpoll"},
		"wire":        {module + "pushstream/engine", module + "pushstream/internal/jsontext"},
		"redisbroker": {module + "pushstream/engine", module + "pushstream/internal/oplog"},
	}
	for dir, bans := range forbidden {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
		imports:
			for _, spec := range file.Imports {
				imp, _ := strconv.Unquote(spec.Path.Value)
				for _, ok := range allowed[dir] {
					if imp == ok {
						continue imports
					}
				}
				for _, ban := range bans {
					if strings.HasPrefix(imp, ban) {
						t.Errorf("%s imports %s: the %s layer may not", path, imp, dir)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
