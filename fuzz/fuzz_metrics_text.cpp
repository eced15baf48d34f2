// Fuzzes parse_metrics_text (what a registry's /metrics serves, read by fetch_metrics): any
// input either parses, or is refused with "metrics line N: ..." on one line. What parses is
// written back in the format and must parse to the same samples, types and help texts.
#include "fuzz_common.hpp"

#include "wbclient/model/prometheus_text.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void finding(const char* what) {
    std::fprintf(stderr, "fuzz_metrics_text: %s\n", what);
    std::abort();
}

std::string escaped(std::string_view text, bool quote) {
    std::string result;
    for (const char c : text) {
        if (c == '\\') result += "\\\\";
        else if (c == '\n') result += "\\n";
        else if (quote && c == '"') result += "\\\"";
        else result += c;
    }
    return result;
}

// The exposition again: comments first (a TYPE must come before its samples), then samples.
std::string written(const wbclient::MetricsText& metrics) {
    std::string text;
    for (const auto& [name, help] : metrics.help_of) text += "# HELP " + name + " " + escaped(help, false) + "\n";
    for (const auto& [name, type] : metrics.type_of) text += "# TYPE " + name + " " + type + "\n";
    for (const auto& sample : metrics.samples) {
        text += sample.name + "{";
        for (const auto& [name, value] : sample.labels) text += name + "=\"" + escaped(value, true) + "\",";
        char value[64];
        std::snprintf(value, sizeof value, "} %.17g", sample.value);  // "inf", "nan": Go reads both
        text += value;
        if (sample.timestamp_ms) text += " " + std::to_string(*sample.timestamp_ms);
        text += "\n";
    }
    return text;
}

bool same(const wbclient::MetricsText& a, const wbclient::MetricsText& b) {
    if (a.samples.size() != b.samples.size() || a.type_of != b.type_of || a.help_of != b.help_of) return false;
    for (std::size_t i = 0; i < a.samples.size(); ++i) {
        const auto& x = a.samples[i];
        const auto& y = b.samples[i];
        const bool values = (std::isnan(x.value) && std::isnan(y.value)) || x.value == y.value;
        if (x.name != y.name || x.labels != y.labels || !values || x.timestamp_ms != y.timestamp_ms) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::expect_documented_errors(input, [&] {
        wbclient::MetricsText metrics;
        try {
            metrics = wbclient::parse_metrics_text(input);
        } catch (const wbclient::MetricsParseError& error) {
            if (std::string_view(error.what()).rfind("metrics line ", 0) != 0 || error.line() == 0)
                finding("a MetricsParseError without its line");
            if (fuzz::has_line_break(error.what())) finding("a multi-line MetricsParseError");
            throw;
        }
        for (const auto& sample : metrics.samples) {
            if (sample.name.empty()) finding("a sample without a name");
            for (const auto& [name, value] : sample.labels)
                if (name.empty()) finding("a label without a name");
        }
        const std::string again = written(metrics);
        wbclient::MetricsText reparsed;
        try {
            reparsed = wbclient::parse_metrics_text(again);
        } catch (const wbclient::MetricsParseError& error) {
            std::fprintf(stderr, "%s\n", error.what());
            finding("what parsed does not parse once written back");
        }
        if (!same(metrics, reparsed)) finding("written back, it parses to something else");
    });
    return 0;
}
