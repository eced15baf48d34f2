#include "wbclient/model/prometheus_text.hpp"

#include "wbclient/model/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <system_error>

namespace wbclient {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':'.
bool starts_name(char c, bool colon) { return is_letter(c) || c == '_' || (colon && c == ':'); }
bool continues_name(char c, bool colon) { return starts_name(c, colon) || is_digit(c); }

std::string quoted(std::string_view text) { return "'" + printable(text, 40) + "'"; }

// Go's utf8.ValidString: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t point = 0, least = 0;
        if (byte < 0x80) { ++i; continue; }
        if ((byte & 0xE0) == 0xC0) length = 2, point = byte & 0x1F, least = 0x80;
        else if ((byte & 0xF0) == 0xE0) length = 3, point = byte & 0x0F, least = 0x800;
        else if ((byte & 0xF8) == 0xF0) length = 4, point = byte & 0x07, least = 0x10000;
        else return false;
        if (text.size() - i < length) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            point = (point << 6) | (next & 0x3F);
        }
        if (point < least || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

bool equals_lower(std::string_view text, std::string_view lower_word) {
    return text.size() == lower_word.size() &&
           std::equal(text.begin(), text.end(), lower_word.begin(),
                      [](char a, char b) { return (is_letter(a) ? (a | 0x20) : a) == b; });
}

// A number that from_chars called out of range: too large (Go: an error), or so small it
// rounds to zero (Go: 0). Decided by the power of its first significant digit (of 10, or of 2
// for a hexadecimal one) plus its exponent.
bool overflows(std::string_view digits, bool hex) {
    const auto is_mantissa_digit = [hex](char c) {
        return is_digit(c) || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    };
    long long power = 0, zeros_after_point = 0;
    bool point = false, significant = false;
    std::size_t i = 0;
    for (; i < digits.size() && (is_mantissa_digit(digits[i]) || digits[i] == '.'); ++i) {
        if (digits[i] == '.') {
            point = true;
        } else if (!significant) {
            if (digits[i] != '0') significant = true, power = point ? -(zeros_after_point + 1) : 0;
            else if (point) ++zeros_after_point;
        } else if (!point) {
            ++power;
        }
    }
    long long exponent = 0;
    if (i + 1 < digits.size()) {  // 'e' or 'p', then an optional sign and decimal digits (checked already)
        const bool negative = digits[i + 1] == '-';
        for (std::size_t k = i + 1; k < digits.size(); ++k)
            if (is_digit(digits[k])) exponent = std::min(exponent * 10 + (digits[k] - '0'), 1'000'000LL);
        if (negative) exponent = -exponent;
    }
    return significant && power * (hex ? 4 : 1) + exponent > 0;
}

// strconv.ParseFloat(token, 64), which the format names: decimal with an optional sign, point
// and exponent, hexadecimal with a 'p' exponent, and Inf/Infinity/NaN in any case. Locale-free.
std::optional<double> parse_go_float(std::string_view token) {
    if (token.empty()) return std::nullopt;
    const bool negative = token.front() == '-';
    const bool signed_ = negative || token.front() == '+';
    const std::string_view unsigned_part = token.substr(signed_ ? 1 : 0);
    if (equals_lower(unsigned_part, "inf") || equals_lower(unsigned_part, "infinity"))
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (!signed_ && equals_lower(unsigned_part, "nan")) return std::numeric_limits<double>::quiet_NaN();

    std::string_view body = unsigned_part;
    auto format = std::chars_format::general;
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
        body.remove_prefix(2);
        // Go wants the binary exponent; from_chars would take "1" alone.
        if (body.find_first_of("pP") == std::string_view::npos) return std::nullopt;
        format = std::chars_format::hex;
    } else if (body.empty() || !(is_digit(body.front()) || body.front() == '.') ||
               body.find_first_not_of("0123456789.eE+-") != std::string_view::npos) {
        return std::nullopt;  // from_chars would also read "nan(...)" and "infinity"
    }
    if (body.empty() || body.front() == '+' || body.front() == '-') return std::nullopt;
    double value = 0;
    const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value, format);
    if (end != body.data() + body.size()) return std::nullopt;
    if (error == std::errc::result_out_of_range) {
        if (overflows(body, format == std::chars_format::hex)) return std::nullopt;
        value = 0;
    } else if (error != std::errc()) {
        return std::nullopt;
    }
    return negative ? -value : value;
}

// strconv.ParseInt(token, 10, 64): an optional sign, then decimal digits.
std::optional<std::int64_t> parse_int64(std::string_view token) {
    const bool plus = !token.empty() && token.front() == '+';
    if (plus) token.remove_prefix(1);
    if (token.empty() || (plus && !is_digit(token.front()))) return std::nullopt;
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
    return value;
}

// One line of the text, read left to right.
class LineReader {
public:
    LineReader(std::string_view text, std::size_t number) : text_(text), number_(number) {}

    [[noreturn]] void fail(const std::string& reason) const { throw MetricsParseError(number_, reason); }
    bool at_end() const { return position_ == text_.size(); }
    char peek() const { return at_end() ? '\n' : text_[position_]; }
    void advance() { ++position_; }
    void skip_blanks() {
        while (!at_end() && is_blank(text_[position_])) ++position_;
    }
    std::string_view rest() const { return text_.substr(position_); }

    // The longest name here; empty if none starts here.
    std::string_view name(bool colon) {
        const std::size_t start = position_;
        if (!at_end() && starts_name(text_[position_], colon))
            while (!at_end() && continues_name(text_[position_], colon)) ++position_;
        return text_.substr(start, position_ - start);
    }

    // Everything up to the next blank or the end of the line.
    std::string_view token() {
        const std::size_t start = position_;
        while (!at_end() && !is_blank(text_[position_])) ++position_;
        return text_.substr(start, position_ - start);
    }

    // The rest of the line with backslash escapes undone: `escapable` lists the characters a
    // backslash may precede besides 'n' (a line feed). With `until`, stops after that
    // character, which must come (a NUL byte is text like any other, not an end).
    std::string unescape(std::string_view escapable, std::optional<char> until, const char* what) {
        std::string result;
        while (true) {
            if (at_end()) {
                if (until) fail(std::string(what) + " is not closed by '\"' before the end of the line");
                return result;
            }
            const char c = text_[position_++];
            if (until && c == *until) return result;
            if (c != '\\') {
                result += c;
                continue;
            }
            if (at_end()) fail(std::string(what) + " ends in a lone backslash");
            const char escaped = text_[position_++];
            if (escaped == 'n') result += '\n';
            else if (escapable.find(escaped) != std::string_view::npos) result += escaped;
            else fail(std::string(what) + " has an invalid escape sequence '\\" + printable(std::string(1, escaped)) + "'");
        }
    }

private:
    std::string_view text_;
    std::size_t number_;
    std::size_t position_ = 0;
};

class Parser {
public:
    MetricsText parse(std::string_view text) {
        std::size_t number = 0;
        while (!text.empty()) {
            const std::size_t end = text.find('\n');
            LineReader line(text.substr(0, end), ++number);
            read_line(line);
            text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        }
        return std::move(result_);
    }

private:
    void read_line(LineReader& line) {
        line.skip_blanks();
        if (line.at_end()) return;  // a blank line
        if (line.peek() == '#') {
            line.advance();
            read_comment(line);
        } else {
            read_sample(line);
        }
    }

    // "# HELP name text", "# TYPE name type"; any other comment is skipped. As in Go's parser,
    // HELP or TYPE with nothing after the name (or no name) is a comment too.
    void read_comment(LineReader& line) {
        line.skip_blanks();
        const std::string_view keyword = line.token();
        if (keyword != "HELP" && keyword != "TYPE") return;
        line.skip_blanks();
        if (line.at_end()) return;
        const std::string_view written = line.rest();
        const std::string family(line.name(true));
        if (family.empty() || !(line.at_end() || is_blank(line.peek())))
            line.fail("invalid metric name in " + std::string(keyword) + " comment: " + quoted(written));
        line.skip_blanks();
        if (line.at_end()) return;
        if (keyword == "HELP") {
            if (result_.help_of.contains(family)) line.fail("a second HELP line for " + quoted(family));
            result_.help_of[family] = line.unescape("\\", std::nullopt, "the HELP text");
            return;
        }
        if (result_.type_of.contains(family)) line.fail("a second TYPE line for " + quoted(family));
        if (sampled_.contains(family)) line.fail("the TYPE line for " + quoted(family) + " comes after its samples");
        std::string_view type = line.rest();
        type = type.substr(0, type.find_last_not_of(" \t") + 1);
        static const std::set<std::string_view> types{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!types.contains(type)) line.fail("unknown metric type " + quoted(type));
        result_.type_of[family] = std::string(type);
    }

    // name [{label="value",...}] value [timestamp]
    void read_sample(LineReader& line) {
        MetricSample sample;
        sample.name = line.name(true);
        if (sample.name.empty()) line.fail("invalid metric name at " + quoted(line.rest()));
        if (!line.at_end() && !is_blank(line.peek()) && line.peek() != '{')
            line.fail("invalid character " + quoted(std::string(1, line.peek())) + " after the metric name " +
                      quoted(sample.name));
        line.skip_blanks();
        if (line.peek() == '{') {
            line.advance();
            read_labels(line, sample);
            line.skip_blanks();
        }
        const std::string_view value = line.token();
        if (value.empty()) line.fail("no value for " + quoted(sample.name));
        const auto parsed = parse_go_float(value);
        if (!parsed) line.fail("the value " + quoted(value) + " of " + quoted(sample.name) + " is not a float");
        sample.value = *parsed;
        line.skip_blanks();
        if (!line.at_end()) {
            const std::string_view timestamp = line.token();
            sample.timestamp_ms = parse_int64(timestamp);
            if (!sample.timestamp_ms)
                line.fail("the timestamp " + quoted(timestamp) + " of " + quoted(sample.name) + " is not an int64");
            line.skip_blanks();
            if (!line.at_end()) line.fail("unexpected " + quoted(line.rest()) + " after the timestamp");
        }
        sampled_.insert(sample.name);
        result_.samples.push_back(std::move(sample));
    }

    // After '{': label="value" pairs separated by ',', an optional ',' before the closing '}'.
    void read_labels(LineReader& line, MetricSample& sample) {
        std::set<std::string, std::less<>> names;
        while (true) {
            line.skip_blanks();
            if (line.peek() == '}') {
                line.advance();
                return;
            }
            std::string name(line.name(false));
            if (name.empty()) line.fail("invalid label name at " + quoted(line.rest()));
            if (name == "__name__") line.fail("the label name '__name__' is reserved");
            if (!names.insert(name).second) line.fail("the label " + quoted(name) + " appears twice");
            line.skip_blanks();
            if (line.peek() != '=') line.fail("expected '=' after the label name " + quoted(name));
            line.advance();
            line.skip_blanks();
            if (line.peek() != '"') line.fail("expected '\"' to start the value of the label " + quoted(name));
            line.advance();
            std::string value = line.unescape("\\\"", '"', "the value of the label");
            if (!valid_utf8(value)) line.fail("the value of the label " + quoted(name) + " is not UTF-8");
            sample.labels.emplace_back(std::move(name), std::move(value));
            line.skip_blanks();
            if (line.peek() == ',') {
                line.advance();
            } else if (line.peek() != '}') {
                line.fail("expected ',' or '}' after a label, not " +
                          (line.at_end() ? std::string("the end of the line") : quoted(line.rest())));
            }
        }
    }

    MetricsText result_;
    std::set<std::string, std::less<>> sampled_;  // sample names seen, for "TYPE after samples"
};

}  // namespace

std::string MetricSample::label(std::string_view wanted) const {
    for (const auto& [name, value] : labels)
        if (name == wanted) return value;
    return {};
}

double MetricsText::sum(std::string_view name, const std::vector<std::pair<std::string, std::string>>& match) const {
    double total = 0;
    for (const auto& sample : samples) {
        if (sample.name != name) continue;
        const bool matches = std::all_of(match.begin(), match.end(), [&](const auto& pair) {
            return std::find(sample.labels.begin(), sample.labels.end(), pair) != sample.labels.end();
        });
        if (matches) total += sample.value;
    }
    return total;
}

MetricsParseError::MetricsParseError(std::size_t line, const std::string& reason)
    : std::runtime_error("metrics line " + std::to_string(line) + ": " + reason), line_(line) {}

MetricsText parse_metrics_text(std::string_view text) { return Parser().parse(text); }

}  // namespace wbclient
