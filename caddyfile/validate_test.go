package caddyfile_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// validateCaddyfile does what `caddy validate` does with a Caddyfile: it
// adapts it, then provisions and validates the result in-process with
// caddy.Validate (which also cleans up). The adapt error, else the
// validation error, is returned.
func validateCaddyfile(t *testing.T, caddyfile string) error {
	t.Helper()
	out, err := adaptCaddyfile(caddyfile)
	if err != nil {
		return err
	}
	return validateJSON(t, out)
}

// validateJSON provisions and validates a JSON config in-process.
func validateJSON(t *testing.T, config []byte) error {
	t.Helper()
	var cfg caddy.Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		t.Fatalf("decoding config: %v\n%s", err, config)
	}
	return caddy.Validate(&cfg)
}

// validateWantError fails unless checking the Caddyfile fails with an
// error containing phrase (docs/PROTOCOL.md §9.2).
func validateWantError(t *testing.T, caddyfile, phrase string) {
	t.Helper()
	err := validateCaddyfile(t, caddyfile)
	if err == nil {
		t.Fatalf("configuration accepted, want an error containing %q:\n%s", phrase, caddyfile)
	}
	if !strings.Contains(err.Error(), phrase) {
		t.Fatalf("error does not contain %q:\n%v", phrase, err)
	}
}

// validateWantOK fails unless the Caddyfile adapts, provisions and
// validates.
func validateWantOK(t *testing.T, caddyfile string) {
	t.Helper()
	if err := validateCaddyfile(t, caddyfile); err != nil {
		t.Fatalf("configuration refused: %v\n%s", err, caddyfile)
	}
}

// validateGlobal renders a Caddyfile with the given global push_stream
// lines and one site with a subscriber and a publisher; sub and pub are
// extra lines of their blocks, subMode and pubMode their modes.
func validateGlobal(global, subMode, sub, pubMode, pub string) string {
	var b strings.Builder
	b.WriteString("{\n\tpush_stream {\n")
	for _, line := range strings.Split(global, "\n") {
		if line != "" {
			b.WriteString("\t\t" + line + "\n")
		}
	}
	b.WriteString("\t}\n}\n\n:9080 {\n")
	b.WriteString("\t@sub path_regexp sub ^/sub/(.*)$\n")
	b.WriteString("\tpush_stream_subscriber @sub " + subMode + " {\n\t\tchannels_path {re.sub.1}\n")
	for _, line := range strings.Split(sub, "\n") {
		if line != "" {
			b.WriteString("\t\t" + line + "\n")
		}
	}
	b.WriteString("\t}\n\n\t@pub path /pub\n")
	b.WriteString("\tpush_stream_publisher @pub " + pubMode + " {\n\t\tchannels_path {query.id}\n")
	for _, line := range strings.Split(pub, "\n") {
		if line != "" {
			b.WriteString("\t\t" + line + "\n")
		}
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// validateSub is validateGlobal with the subscriber line only.
func validateSub(line string) string { return validateGlobal("", "", line, "", "") }

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #1
func TestSetupParametersPingMessageIntervalZero(t *testing.T) {
	validateWantError(t, validateSub("ping_message_interval 0"), "ping_message_interval cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #2
func TestSetupParametersMessageTemplateBlank(t *testing.T) {
	validateWantError(t, validateSub(`message_template ""`), "message_template cannot be blank")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #3
func TestSetupParametersSubscriberConnectionTTLZero(t *testing.T) {
	validateWantError(t, validateSub("subscriber_connection_ttl 0"), "subscriber_connection_ttl cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #4
func TestSetupParametersLongpollingConnectionTTLZero(t *testing.T) {
	validateWantError(t, validateSub("longpolling_connection_ttl 0"), "longpolling_connection_ttl cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #5
func TestSetupParametersMaxChannelIDLengthZero(t *testing.T) {
	validateWantError(t, validateGlobal("max_channel_id_length 0", "", "", "", ""), "max_channel_id_length cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #6
func TestSetupParametersMessageTTLZero(t *testing.T) {
	validateWantError(t, validateGlobal("message_ttl 0", "", "", "", ""), "message_ttl cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #7
func TestSetupParametersMaxSubscribersPerChannelZero(t *testing.T) {
	validateWantError(t, validateGlobal("max_subscribers_per_channel 0", "", "", "", ""), "max_subscribers_per_channel cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #8
func TestSetupParametersMaxMessagesStoredPerChannelZero(t *testing.T) {
	validateWantError(t, validateGlobal("max_messages_stored_per_channel 0", "", "", "", ""), "max_messages_stored_per_channel cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #9
func TestSetupParametersMaxNumberOfChannelsZero(t *testing.T) {
	validateWantError(t, validateGlobal("max_number_of_channels 0", "", "", "", ""), "max_number_of_channels cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #10
func TestSetupParametersMaxNumberOfWildcardChannelsZero(t *testing.T) {
	validateWantError(t, validateGlobal("max_number_of_wildcard_channels 0", "", "", "", ""), "max_number_of_wildcard_channels cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #11
func TestSetupParametersWildcardChannelMaxQtdZero(t *testing.T) {
	validateWantError(t, validateGlobal("wildcard_channel_prefix broad_", "", "wildcard_channel_max_qtd 0", "", ""), "wildcard_channel_max_qtd cannot be zero")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #12
// The check needs the global option, so it is a provisioning error.
func TestSetupParametersWildcardChannelMaxQtdWithoutPrefix(t *testing.T) {
	const phrase = "cannot set wildcard channel max qtd if wildcard_channel_prefix is not set or blank"
	t.Run("blank prefix", func(t *testing.T) {
		validateWantError(t, validateGlobal(`wildcard_channel_prefix ""`, "", "wildcard_channel_max_qtd 1", "", ""), phrase)
	})
	t.Run("no prefix", func(t *testing.T) {
		validateWantError(t, validateGlobal("message_ttl 5m", "", "wildcard_channel_max_qtd 1", "", ""), phrase)
	})
	t.Run("no global option", func(t *testing.T) {
		validateWantError(t, ":9080 {\n\tpush_stream_subscriber {\n\t\tchannels_path {query.id}\n\t\twildcard_channel_max_qtd 1\n\t}\n}\n", phrase)
	})
	t.Run("with prefix", func(t *testing.T) {
		validateWantOK(t, validateGlobal("wildcard_channel_prefix broad_", "", "wildcard_channel_max_qtd 1", "", ""))
	})
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #13
func TestSetupParametersMaxWildcardChannelsSmallerThanMaxQtd(t *testing.T) {
	const phrase = "max number of wildcard channels cannot be smaller than value in wildcard_channel_max_qtd"
	t.Run("smaller", func(t *testing.T) {
		validateWantError(t, validateGlobal("max_number_of_wildcard_channels 3\nwildcard_channel_prefix broad_", "", "wildcard_channel_max_qtd 4", "", ""), phrase)
	})
	t.Run("equal", func(t *testing.T) {
		validateWantOK(t, validateGlobal("max_number_of_wildcard_channels 4\nwildcard_channel_prefix broad_", "", "wildcard_channel_max_qtd 4", "", ""))
	})
	t.Run("larger", func(t *testing.T) {
		validateWantOK(t, validateGlobal("max_number_of_wildcard_channels 5\nwildcard_channel_prefix broad_", "", "wildcard_channel_max_qtd 4", "", ""))
	})
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #15
func TestSetupParametersSubscriberModeUnknown(t *testing.T) {
	validateWantError(t, validateGlobal("", "unknown", "", "", ""),
		"invalid push_stream_subscriber mode value: unknown, accepted values (streaming, polling, long-polling, eventsource, websocket)")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #16
func TestSetupParametersSubscriberModesAccepted(t *testing.T) {
	for _, mode := range []string{"", "streaming", "polling", "long-polling", "eventsource", "websocket", "Long-Polling"} {
		t.Run("mode "+mode, func(t *testing.T) {
			validateWantOK(t, validateGlobal("", mode, "", "", ""))
		})
	}
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #17
func TestSetupParametersPublisherModeUnknown(t *testing.T) {
	validateWantError(t, validateGlobal("", "", "", "unknown", ""),
		"invalid push_stream_publisher mode value: unknown, accepted values (normal, admin)")
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #18
func TestSetupParametersPublisherModesAccepted(t *testing.T) {
	for _, mode := range []string{"", "normal", "admin", "Admin"} {
		t.Run("mode "+mode, func(t *testing.T) {
			validateWantOK(t, validateGlobal("", "", "", mode, ""))
		})
	}
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #19
func TestSetupParametersPaddingByUserAgentInvalid(t *testing.T) {
	tests := []struct {
		name, value, phrase string
	}{
		{"letters for sizes", "user_agent,as,df", "padding pattern not match the value user_agent,as,df"},
		{"semicolons", "user_agent;10;0", "padding pattern not match the value user_agent;10;0"},
		{"bad second rule", "user_agent,10,0:other_user_agent;20;0:another_user_agent,30,0",
			"error applying padding pattern to other_user_agent;20;0:another_user_agent,30,0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			validateWantError(t, validateSub(`padding_by_user_agent "`+tc.value+`"`), tc.phrase)
		})
	}
	t.Run("valid", func(t *testing.T) {
		validateWantOK(t, validateSub(`padding_by_user_agent "[T|t]est 1,1024,508:[T|t]est 2,4097,0"`))
	})
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #21
func TestSetupParametersSharedMemorySizeTooSmall(t *testing.T) {
	validateWantError(t, validateGlobal("shared_memory_size 100k", "", "", "", ""), "shared_memory_size value must be at least 128KiB")
	validateWantOK(t, validateGlobal("shared_memory_size 128k", "", "", "", ""))
}

// docs/SCENARIOS.md mix/setup_parameters_spec.rb #22
// (Caddy allows a statistics handler without channels_path.)
func TestSetupParametersChannelsPathRequired(t *testing.T) {
	const phrase = "channels_path must be set"
	t.Run("subscriber", func(t *testing.T) {
		validateWantError(t, ":9080 {\n\tpush_stream_subscriber {\n\t\tcontent_type text/html\n\t}\n}\n", phrase)
	})
	t.Run("websocket", func(t *testing.T) {
		validateWantError(t, ":9080 {\n\tpush_stream_websocket {\n\t\twebsocket_allow_publish on\n\t}\n}\n", phrase)
	})
	t.Run("publisher", func(t *testing.T) {
		validateWantError(t, ":9080 {\n\tpush_stream_publisher admin {\n\t\tstore_messages on\n\t}\n}\n", phrase)
	})
	t.Run("statistics without it is fine", func(t *testing.T) {
		validateWantOK(t, ":9080 {\n\tpush_stream_channels_statistics\n}\n")
	})
}

// TestValidateHeaderTemplateFile: header_template_file is read at
// provisioning; an unreadable file is a `caddy validate` error naming the
// path (docs/PROTOCOL.md §9.2), a readable one is accepted.
func TestValidateHeaderTemplateFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.html")
	t.Run("unreadable", func(t *testing.T) {
		validateWantError(t, validateSub("header_template_file "+missing),
			`unable to open file "`+missing+`" for header template`)
	})
	t.Run("readable", func(t *testing.T) {
		path := filepath.Join(dir, "header.html")
		if err := os.WriteFile(path, []byte("<html>\\r\\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		validateWantOK(t, validateSub("header_template_file "+path))
	})
	t.Run("with header_template", func(t *testing.T) {
		validateWantError(t, validateSub("header_template_file "+missing+"\nheader_template x"),
			"header_template_file is duplicate or template set by header_template")
	})
}

// TestValidateJSONConfig: the same checks hold for a JSON config that
// never went through the Caddyfile adapter (docs/CONFIGURATION.md, Module IDs).
func TestValidateJSONConfig(t *testing.T) {
	site := func(handler string) []byte {
		return []byte(`{"apps": {"http": {"servers": {"srv0": {"listen": [":9080"], "routes": [{"handle": [` + handler + `]}]}}}}}`)
	}
	tests := []struct {
		name, handler, phrase string
	}{
		{"subscriber without channels_path", `{"handler": "push_stream_subscriber"}`, "channels_path must be set"},
		{"publisher without channels_path", `{"handler": "push_stream_publisher", "mode": "admin"}`, "channels_path must be set"},
		{"blank message template", `{"handler": "push_stream_subscriber", "channels_path": "{http.request.uri.query.id}", "message_template": ""}`, "message_template cannot be blank"},
		{"unknown subscriber mode", `{"handler": "push_stream_subscriber", "channels_path": "x", "mode": "forever"}`,
			"invalid push_stream_subscriber mode value: forever, accepted values (streaming, polling, long-polling, eventsource, websocket)"},
		{"unknown publisher mode", `{"handler": "push_stream_publisher", "channels_path": "x", "mode": "super"}`,
			"invalid push_stream_publisher mode value: super, accepted values (normal, admin)"},
		{"both header templates", `{"handler": "push_stream_subscriber", "channels_path": "x", "header_template": "a", "header_template_file": "/nonexistent"}`,
			"header_template_file is duplicate or template set by header_template"},
		{"bad padding", `{"handler": "push_stream_subscriber", "channels_path": "x", "padding_by_user_agent": "user_agent;10;0"}`,
			"padding pattern not match the value user_agent;10;0"},
		{"max qtd without prefix", `{"handler": "push_stream_subscriber", "channels_path": "x", "wildcard_channel_max_qtd": 2}`,
			"cannot set wildcard channel max qtd if wildcard_channel_prefix is not set or blank"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateJSON(t, site(tc.handler))
			if err == nil || !strings.Contains(err.Error(), tc.phrase) {
				t.Fatalf("got %v, want an error containing %q", err, tc.phrase)
			}
		})
	}
	t.Run("app too small", func(t *testing.T) {
		err := validateJSON(t, []byte(`{"apps": {"push_stream": {"shared_memory_size": 1000}}}`))
		if err == nil || !strings.Contains(err.Error(), "shared_memory_size value must be at least 128KiB") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestValidateGoldenConfigs: the golden Caddyfiles that describe working
// setups (docs/SCENARIOS.md baseline, the seed talk's layout, every
// sub-directive) also provision, as `caddy validate` would check.
func TestValidateGoldenConfigs(t *testing.T) {
	for _, name := range []string{
		"scenarios_baseline", "seed_talk_layout", "global_option_all", "subscriber_all_subdirectives",
		"subscriber_modes", "websocket_directive", "publisher_all_subdirectives", "statistics",
		"booleans", "sizes", "durations", "placeholders", "template_escapes", "no_global_option",
		"directive_order", "global_option_zero_inactivity",
	} {
		t.Run(name, func(t *testing.T) {
			caddyfile, _ := adaptReadGolden(t, filepath.Join("testdata", name+".caddyfiletest"))
			validateWantOK(t, caddyfile)
		})
	}
}
