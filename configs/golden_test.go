package configs

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite default.toml from Dump(Default())")

// TestDefaultFileIsDump keeps default.toml equal to Dump(Default()), so the
// file make run uses is the documented defaults. Regenerate it with
// go test ./configs/ -run TestDefaultFileIsDump -update.
func TestDefaultFileIsDump(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Dump(&b, Default()))
	if *update {
		require.NoError(t, os.WriteFile("default.toml", b.Bytes(), 0o644))
	}
	data, err := EmbeddedFile("default")
	require.NoError(t, err)
	require.Equal(t, b.String(), string(data))
}
