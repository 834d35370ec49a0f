package wire

import (
	"strconv"
	"strings"

	"github.com/caddy-pushstream/caddy-pushstream/pushstream/engine"
)

// StatsFormat is one output format of channel information and statistics
// (docs/PROTOCOL.md §7.3).
type StatsFormat struct {
	// ContentType is the response Content-Type.
	ContentType string
	shape       statsShape
}

type statsShape uint8

const (
	shapeJSON statsShape = iota
	shapePlain
	shapeYAML
	shapeXML
)

var statsFormats = []struct {
	subtype string
	format  StatsFormat
}{
	{"plain", StatsFormat{"text/plain", shapePlain}},
	{"json", StatsFormat{"application/json", shapeJSON}},
	{"yaml", StatsFormat{"application/yaml", shapeYAML}},
	{"xml", StatsFormat{"application/xml", shapeXML}},
	{"x-json", StatsFormat{"text/x-json", shapeJSON}},
	{"x-yaml", StatsFormat{"text/x-yaml", shapeYAML}},
}

// NegotiateStatsFormat picks the format from an Accept header value: the
// first `/` followed by a known subtype decides; JSON otherwise.
func NegotiateStatsFormat(accept string) StatsFormat {
	for i := 0; i < len(accept); i++ {
		if accept[i] != '/' {
			continue
		}
		rest := accept[i+1:]
		for _, f := range statsFormats {
			if strings.HasPrefix(rest, f.subtype) {
				return f.format
			}
		}
	}
	return statsFormats[1].format
}

// StatsHead is what the group and summarized forms report besides the
// channels.
type StatsHead struct {
	Hostname string
	// Time is the current UTC time as YYYY-MM-DDTHH:MM:SS.
	Time             string
	Channels         int
	WildcardChannels int
	Uptime           int64
}

const xmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n"

// AppendChannelInfo appends the single-channel form.
func (f StatsFormat) AppendChannelInfo(dst []byte, info engine.ChannelInfo) []byte {
	switch f.shape {
	case shapePlain:
		dst = appendPlainItem(dst, info)
		return append(dst, "\r\n"...)
	case shapeYAML:
		return appendYAMLItem(dst, info, true)
	case shapeXML:
		dst = append(dst, xmlDecl...)
		dst = appendXMLItem(dst, info)
		return append(dst, "\r\n"...)
	default:
		dst = appendJSONItem(dst, info)
		return append(dst, "\r\n"...)
	}
}

// AppendGroup appends the group form of infos (also the detailed list).
func (f StatsFormat) AppendGroup(dst []byte, head StatsHead, infos []engine.ChannelInfo) []byte {
	switch f.shape {
	case shapePlain:
		dst = append(dst, "hostname: "...)
		dst = AppendPlainText(dst, head.Hostname)
		dst = append(dst, ", time: "...)
		dst = append(dst, head.Time...)
		dst = append(dst, ", channels: "...)
		dst = strconv.AppendInt(dst, int64(head.Channels), 10)
		dst = append(dst, ", wildcard_channels: "...)
		dst = strconv.AppendInt(dst, int64(head.WildcardChannels), 10)
		dst = append(dst, ", uptime: "...)
		dst = strconv.AppendInt(dst, head.Uptime, 10)
		dst = append(dst, ", infos: \r\n"...)
		for i, info := range infos {
			dst = appendPlainItem(dst, info)
			if i < len(infos)-1 {
				dst = append(dst, ",\r\n"...)
			}
		}
		return append(dst, "\r\n"...)
	case shapeYAML:
		dst = appendYAMLHead(dst, head, "")
		dst = append(dst, "uptime: "...)
		dst = strconv.AppendInt(dst, head.Uptime, 10)
		dst = append(dst, "\r\ninfos: \r\n"...)
		for i, info := range infos {
			dst = append(dst, " -\r\n"...)
			dst = appendYAMLItem(dst, info, i < len(infos)-1)
		}
		return append(dst, "\r\n"...)
	case shapeXML:
		dst = append(dst, xmlDecl...)
		dst = append(dst, "<root>\r\n"...)
		dst = appendXMLHead(dst, head)
		dst = appendXMLField(dst, "uptime", head.Uptime)
		dst = append(dst, "  <infos>\r\n"...)
		for _, info := range infos {
			dst = appendXMLItem(dst, info)
		}
		return append(dst, "  </infos>\r\n</root>\r\n"...)
	default:
		dst = appendJSONHead(dst, head)
		dst = append(dst, ", \"uptime\": "...)
		dst = strconv.AppendInt(dst, head.Uptime, 10)
		dst = append(dst, ", \"infos\": [\r\n"...)
		for i, info := range infos {
			dst = appendJSONItem(dst, info)
			if i < len(infos)-1 {
				dst = append(dst, ",\r\n"...)
			} else {
				dst = append(dst, "\r\n"...)
			}
		}
		return append(dst, "]}\r\n"...)
	}
}

// AppendSummary appends the summarized statistics (docs/PROTOCOL.md §7.4).
func (f StatsFormat) AppendSummary(dst []byte, head StatsHead, sum engine.Summary, pid int) []byte {
	fields := []struct {
		name  string
		value int64
	}{
		{"published_messages", sum.Published},
		{"stored_messages", sum.Stored},
		{"messages_in_trash", int64(sum.MessagesInTrash)},
		{"channels_in_delete", int64(sum.ChannelsInDelete)},
		{"channels_in_trash", int64(sum.ChannelsInTrash)},
		{"subscribers", int64(sum.Subscribers)},
		{"uptime", head.Uptime},
	}
	switch f.shape {
	case shapePlain, shapeYAML:
		indent := ""
		if f.shape == shapeYAML {
			indent = "  "
		}
		dst = appendYAMLHead(dst, head, indent)
		for _, fl := range fields {
			dst = append(dst, indent...)
			dst = append(dst, fl.name...)
			dst = append(dst, ": "...)
			dst = strconv.AppendInt(dst, fl.value, 10)
			dst = append(dst, "\r\n"...)
		}
		dst = append(dst, indent...)
		dst = append(dst, "by_worker:\r\n"...)
		if f.shape == shapeYAML {
			dst = append(dst, "   -\r\n    pid: "...)
			dst = strconv.AppendInt(dst, int64(pid), 10)
			dst = append(dst, "\r\n    subscribers: "...)
			dst = strconv.AppendInt(dst, int64(sum.Subscribers), 10)
			dst = append(dst, "\r\n    uptime: "...)
			dst = strconv.AppendInt(dst, head.Uptime, 10)
			return append(dst, "\r\n"...)
		}
		dst = append(dst, "  pid: "...)
		dst = strconv.AppendInt(dst, int64(pid), 10)
		dst = append(dst, "\r\n  subscribers: "...)
		dst = strconv.AppendInt(dst, int64(sum.Subscribers), 10)
		dst = append(dst, "\r\n  uptime: "...)
		dst = strconv.AppendInt(dst, head.Uptime, 10)
		return append(dst, "\r\n"...)
	case shapeXML:
		dst = append(dst, xmlDecl...)
		dst = append(dst, "<infos>\r\n"...)
		dst = appendXMLHead(dst, head)
		for _, fl := range fields {
			dst = appendXMLField(dst, fl.name, fl.value)
		}
		dst = append(dst, "  <by_worker><worker>\r\n"...)
		dst = appendXMLField(dst, "pid", int64(pid))
		dst = appendXMLField(dst, "subscribers", int64(sum.Subscribers))
		dst = appendXMLField(dst, "uptime", head.Uptime)
		return append(dst, "</worker>\r\n</by_worker>\r\n</infos>\r\n"...)
	default:
		dst = appendJSONHead(dst, head)
		for _, fl := range fields {
			dst = append(dst, ", \""...)
			dst = append(dst, fl.name...)
			dst = append(dst, "\": "...)
			dst = strconv.AppendInt(dst, fl.value, 10)
		}
		dst = append(dst, ", \"by_worker\": [\r\n{\"pid\": \""...)
		dst = strconv.AppendInt(dst, int64(pid), 10)
		dst = append(dst, "\", \"subscribers\": "...)
		dst = strconv.AppendInt(dst, int64(sum.Subscribers), 10)
		dst = append(dst, ", \"uptime\": "...)
		dst = strconv.AppendInt(dst, head.Uptime, 10)
		return append(dst, "}\r\n]}\r\n"...)
	}
}

func appendJSONItem(dst []byte, info engine.ChannelInfo) []byte {
	dst = append(dst, "{\"channel\": \""...)
	dst = AppendJSONString(dst, info.ID)
	dst = append(dst, "\", \"published_messages\": "...)
	dst = strconv.AppendInt(dst, info.Published, 10)
	dst = append(dst, ", \"stored_messages\": "...)
	dst = strconv.AppendInt(dst, int64(info.Stored), 10)
	dst = append(dst, ", \"subscribers\": "...)
	dst = strconv.AppendInt(dst, int64(info.Subscribers), 10)
	return append(dst, '}')
}

func appendJSONHead(dst []byte, head StatsHead) []byte {
	dst = append(dst, "{\"hostname\": \""...)
	dst = AppendJSONString(dst, head.Hostname)
	dst = append(dst, "\", \"time\": \""...)
	dst = append(dst, head.Time...)
	dst = append(dst, "\", \"channels\": "...)
	dst = strconv.AppendInt(dst, int64(head.Channels), 10)
	dst = append(dst, ", \"wildcard_channels\": "...)
	return strconv.AppendInt(dst, int64(head.WildcardChannels), 10)
}

// appendPlainItem appends the plain item without its final line end.
func appendPlainItem(dst []byte, info engine.ChannelInfo) []byte {
	dst = append(dst, "channel: "...)
	dst = AppendPlainText(dst, info.ID)
	dst = append(dst, "\r\npublished_messages: "...)
	dst = strconv.AppendInt(dst, info.Published, 10)
	dst = append(dst, "\r\nstored_messages: "...)
	dst = strconv.AppendInt(dst, int64(info.Stored), 10)
	dst = append(dst, "\r\nactive_subscribers: "...)
	return strconv.AppendInt(dst, int64(info.Subscribers), 10)
}

// appendYAMLItem appends the YAML item, ending its last line when lastEOL.
func appendYAMLItem(dst []byte, info engine.ChannelInfo, lastEOL bool) []byte {
	dst = append(dst, "  channel: "...)
	dst = AppendYAMLScalar(dst, info.ID)
	dst = append(dst, "\r\n  published_messages: "...)
	dst = strconv.AppendInt(dst, info.Published, 10)
	dst = append(dst, "\r\n  stored_messages: "...)
	dst = strconv.AppendInt(dst, int64(info.Stored), 10)
	dst = append(dst, "\r\n  subscribers: "...)
	dst = strconv.AppendInt(dst, int64(info.Subscribers), 10)
	if lastEOL {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// appendYAMLHead appends the hostname to wildcard_channels lines shared by
// the plain summary and the YAML forms.
func appendYAMLHead(dst []byte, head StatsHead, indent string) []byte {
	dst = append(dst, indent...)
	dst = append(dst, "hostname: "...)
	dst = AppendYAMLScalar(dst, head.Hostname)
	dst = append(dst, "\r\n"...)
	dst = append(dst, indent...)
	dst = append(dst, "time: "...)
	dst = append(dst, head.Time...)
	dst = append(dst, "\r\n"...)
	dst = append(dst, indent...)
	dst = append(dst, "channels: "...)
	dst = strconv.AppendInt(dst, int64(head.Channels), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, indent...)
	dst = append(dst, "wildcard_channels: "...)
	dst = strconv.AppendInt(dst, int64(head.WildcardChannels), 10)
	return append(dst, "\r\n"...)
}

func appendXMLItem(dst []byte, info engine.ChannelInfo) []byte {
	dst = append(dst, "<channel>\r\n  <name>"...)
	dst = AppendXMLText(dst, info.ID)
	dst = append(dst, "</name>\r\n"...)
	dst = appendXMLField(dst, "published_messages", info.Published)
	dst = appendXMLField(dst, "stored_messages", int64(info.Stored))
	dst = appendXMLField(dst, "subscribers", int64(info.Subscribers))
	return append(dst, "</channel>\r\n"...)
}

func appendXMLHead(dst []byte, head StatsHead) []byte {
	dst = append(dst, "  <hostname>"...)
	dst = AppendXMLText(dst, head.Hostname)
	dst = append(dst, "</hostname>\r\n  <time>"...)
	dst = append(dst, head.Time...)
	dst = append(dst, "</time>\r\n"...)
	dst = appendXMLField(dst, "channels", int64(head.Channels))
	return appendXMLField(dst, "wildcard_channels", int64(head.WildcardChannels))
}

func appendXMLField(dst []byte, name string, value int64) []byte {
	dst = append(dst, "  <"...)
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = strconv.AppendInt(dst, value, 10)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, ">\r\n"...)
}
