// The Prometheus text exposition format 0.0.4, what a registry's debug address serves on
// /metrics (http.debug.prometheus): samples, their labels, and each family's TYPE and HELP.
// A value type with its parser, so it sits in the model layer beside the manifests: the
// distribution API returns it (fetch_metrics) and nothing here does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wbclient {

/// One sample line: `name{label="value",...} value [timestamp]`.
struct MetricSample {
    std::string name;                                         ///< e.g. registry_http_requests_total
    std::vector<std::pair<std::string, std::string>> labels;  ///< in the order written, unescaped
    double value = 0;                                         ///< +Inf, -Inf and NaN allowed
    std::optional<std::int64_t> timestamp_ms;                 ///< milliseconds since the epoch
    /// The value of label `name`, or "" when the sample has none (as Prometheus treats an
    /// absent label and an empty one alike).
    std::string label(std::string_view name) const;
};

/// A whole exposition: every sample in the order written, and what the comments said.
struct MetricsText {
    std::vector<MetricSample> samples;
    std::map<std::string, std::string> type_of;  ///< family name -> counter|gauge|histogram|summary|untyped
    std::map<std::string, std::string> help_of;  ///< family name -> help text (unescaped)
    /// The sum of the values of the samples named `name` whose labels include every pair in
    /// `match` (other labels may differ): 0 when none does.
    double sum(std::string_view name, const std::vector<std::pair<std::string, std::string>>& match = {}) const;
};

/// Text that breaks the format. what() is one line: `metrics line N: <reason>`.
class MetricsParseError : public std::runtime_error {
public:
    MetricsParseError(std::size_t line, const std::string& reason);
    /// The 1-based line the reason is about.
    std::size_t line() const { return line_; }

private:
    std::size_t line_;
};

/// Parses `text` as the text exposition format 0.0.4, the grammar of Prometheus' own parser
/// (expfmt's TextParser): `# HELP name text` (escapes `\\` and `\n`), `# TYPE name type`
/// (once per family, before its samples), other comments and blank lines skipped; blanks are
/// spaces and tabs; label values escape `\\`, `\"` and `\n` and must be UTF-8; a value is a
/// Go float (`1.5e3`, `+Inf`, `-Inf`, `NaN`, ...), a timestamp an int64. Lines end in a line
/// feed, the last one may not.
/// Throws MetricsParseError at the first line that breaks it. Memory grows with the input
/// only (a few times its size), whatever the input is.
MetricsText parse_metrics_text(std::string_view text);

}  // namespace wbclient
