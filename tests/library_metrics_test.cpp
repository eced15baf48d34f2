// Watching a registry from its debug address: the Prometheus text format on its own
// (wbclient/model/prometheus_text.hpp), then /metrics, /debug/health and /debug/vars of a real
// registry (wbclient/distribution/debug_server.hpp), asserted against requests the test sent.
#include "registry_instance.hpp"
#include "workspace.hpp"

#include "wbclient/distribution/debug_server.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/distribution/tags.hpp"
#include "wbclient/model/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <thread>

using namespace wbclient;
using harness::start_registry;
using harness::Workspace;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// What registry 2.8.2 serves, cut down: a counter, a gauge, a histogram with its "+Inf" bucket.
const char* const registry_sample =
    "# HELP registry_http_in_flight_requests The in-flight HTTP requests\n"
    "# TYPE registry_http_in_flight_requests gauge\n"
    "registry_http_in_flight_requests{handler=\"base\"} 0\n"
    "# HELP registry_http_request_duration_seconds The HTTP request latencies in seconds.\n"
    "# TYPE registry_http_request_duration_seconds histogram\n"
    "registry_http_request_duration_seconds_bucket{handler=\"base\",method=\"get\",le=\"0.005\"} 1\n"
    "registry_http_request_duration_seconds_bucket{handler=\"base\",method=\"get\",le=\"+Inf\"} 1\n"
    "registry_http_request_duration_seconds_sum{handler=\"base\",method=\"get\"} 0.000696085\n"
    "registry_http_request_duration_seconds_count{handler=\"base\",method=\"get\"} 1\n"
    "# HELP registry_http_requests_total Total number of HTTP requests made.\n"
    "# TYPE registry_http_requests_total counter\n"
    "registry_http_requests_total{code=\"200\",handler=\"base\",method=\"get\"} 3\n"
    "registry_http_requests_total{code=\"404\",handler=\"blob\",method=\"head\"} 2\n"
    "registry_http_requests_total{code=\"200\",handler=\"blob\",method=\"head\"} 5\n"
    "registry_http_requests_total{code=\"404\",handler=\"tags\",method=\"get\"} 1\n"
    "registry_storage_action_seconds_sum{action=\"GetContent\",driver=\"filesystem\"} 2.5418e-05\n";

std::string parse_error_of(std::string_view text) {
    try {
        parse_metrics_text(text);
    } catch (const MetricsParseError& error) {
        return error.what();
    }
    return "(parsed)";
}

}  // namespace

TEST_CASE("metrics text: samples, labels in order, TYPE and HELP of a registry's answer", "[library][metrics]") {
    const MetricsText metrics = parse_metrics_text(registry_sample);
    REQUIRE(metrics.samples.size() == 10);
    const MetricSample& bucket = metrics.samples[2];
    CHECK(bucket.name == "registry_http_request_duration_seconds_bucket");
    CHECK(bucket.labels == Labels{{"handler", "base"}, {"method", "get"}, {"le", "+Inf"}});
    CHECK(bucket.label("le") == "+Inf");
    CHECK(bucket.label("code").empty());
    CHECK(bucket.value == 1);
    CHECK_FALSE(bucket.timestamp_ms);
    CHECK(metrics.samples[3].value == 0.000696085);
    CHECK(metrics.samples[9].value == 2.5418e-05);
    CHECK(metrics.type_of == std::map<std::string, std::string>{
                                 {"registry_http_in_flight_requests", "gauge"},
                                 {"registry_http_request_duration_seconds", "histogram"},
                                 {"registry_http_requests_total", "counter"}});
    CHECK(metrics.help_of.at("registry_http_requests_total") == "Total number of HTTP requests made.");
    CHECK(metrics.help_of.size() == 3);
}

TEST_CASE("metrics text: sum() adds the samples whose labels include every pair asked for", "[library][metrics]") {
    const MetricsText metrics = parse_metrics_text(registry_sample);
    CHECK(metrics.sum("registry_http_requests_total") == 11);
    CHECK(metrics.sum("registry_http_requests_total", {{"handler", "blob"}}) == 7);
    CHECK(metrics.sum("registry_http_requests_total", {{"method", "head"}, {"code", "404"}}) == 2);
    CHECK(metrics.sum("registry_http_requests_total", {{"code", "200"}}) == 8);
    CHECK(metrics.sum("registry_http_requests_total", {{"handler", "manifest"}}) == 0);
    CHECK(metrics.sum("registry_http_requests_total", {{"handler", "base"}, {"code", "404"}}) == 0);
    // A label the samples do not have matches none, not all.
    CHECK(metrics.sum("registry_http_requests_total", {{"repository", ""}}) == 0);
    CHECK(metrics.sum("no_such_metric") == 0);
}

TEST_CASE("metrics text: escapes, special values, timestamps, blanks and the last line", "[library][metrics]") {
    const MetricsText metrics = parse_metrics_text(
        "# HELP a A backslash \\\\ and a\\nsecond line\n"
        "# a comment, and a blank line below\n"
        "\n"
        "   \t\n"
        "#TYPE a counter\n"
        "a{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",lines=\"one\\ntwo\",} +Inf\n"
        "a { x = \"1\" ,\ty=\"\" } -Inf 1700000000000\n"
        "a{} NaN -5\n"
        "\ta\t1.5e3\t\t+12  \n"
        "b_total:rate 0x1p-2\n"
        "c{v=\"\xc3\xa9t\xc3\xa9\"} -.5E-2");  // UTF-8 in a value; no '\n' at the end
    REQUIRE(metrics.samples.size() == 6);
    const auto& s = metrics.samples;
    CHECK(s[0].labels == Labels{{"path", "C:\\dir"}, {"quote", "say \"hi\""}, {"lines", "one\ntwo"}});
    CHECK(s[0].value == std::numeric_limits<double>::infinity());
    CHECK(s[1].labels == Labels{{"x", "1"}, {"y", ""}});
    CHECK(s[1].value == -std::numeric_limits<double>::infinity());
    CHECK(s[1].timestamp_ms == 1700000000000);
    CHECK(s[2].labels.empty());
    CHECK(std::isnan(s[2].value));
    CHECK(s[2].timestamp_ms == -5);
    CHECK(s[3].value == 1500);
    CHECK(s[3].timestamp_ms == 12);
    CHECK(s[4].name == "b_total:rate");
    CHECK(s[4].value == 0.25);
    CHECK(s[5].label("v") == "\xc3\xa9t\xc3\xa9");
    CHECK(s[5].value == -0.005);
    CHECK(metrics.help_of.at("a") == "A backslash \\ and a\nsecond line");
    // "#TYPE" counts as "# TYPE": as in Go's parser, the blanks after '#' are optional.
    CHECK(metrics.type_of.at("a") == "counter");

    // A NUL byte is text like any other (fuzz/known/metrics_help_nul_byte: it once ended HELP).
    using namespace std::string_literals;
    const MetricsText nul = parse_metrics_text("# HELP n x\0y\nn{v=\"\0\"} 1\n"s);
    CHECK(nul.help_of.at("n") == "x\0y"s);
    CHECK(nul.samples.at(0).label("v") == "\0"s);

    CHECK(parse_metrics_text("").samples.empty());
    CHECK(parse_metrics_text("\n\n# only comments\n").samples.empty());
    // Go's strconv.ParseFloat: Inf and NaN in any case, "Infinity", an exponent that
    // underflows to 0.
    CHECK(parse_metrics_text("x inf").samples[0].value == std::numeric_limits<double>::infinity());
    CHECK(parse_metrics_text("x -Infinity").samples[0].value == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(parse_metrics_text("x nan").samples[0].value));
    CHECK(parse_metrics_text("x 1e-400").samples[0].value == 0);
    CHECK(parse_metrics_text("x 0x1p-2000").samples[0].value == 0);
    CHECK(parse_metrics_text("x 0.0001e-320").samples[0].value == 0);
    CHECK(parse_metrics_text("x 100e306").samples[0].value == 1e308);
    // HELP or TYPE with no name, or a name and nothing else, is a comment, as in Go's parser.
    const MetricsText bare = parse_metrics_text("# HELP\n# TYPE x\n# HELP y\n");
    CHECK(bare.type_of.empty());
    CHECK(bare.help_of.empty());
}

TEST_CASE("metrics text: a broken line is refused with its number and one line of reason", "[library][metrics]") {
    struct Case {
        std::string text, message;
    };
    const std::vector<Case> cases = {
        {"ok 1\n1abc 2", "metrics line 2: invalid metric name at '1abc 2'"},
        {"a-b 1", "metrics line 1: invalid character '-' after the metric name 'a'"},
        {"a", "metrics line 1: no value for 'a'"},
        {"a{b=\"c\"}", "metrics line 1: no value for 'a'"},
        {"a one", "metrics line 1: the value 'one' of 'a' is not a float"},
        {"a 1e400", "metrics line 1: the value '1e400' of 'a' is not a float"},
        {"a +NaN", "metrics line 1: the value '+NaN' of 'a' is not a float"},
        {"a 0x1", "metrics line 1: the value '0x1' of 'a' is not a float"},
        {"a 0x1p2000", "metrics line 1: the value '0x1p2000' of 'a' is not a float"},
        {"a 1_000", "metrics line 1: the value '1_000' of 'a' is not a float"},
        {"a 1,5", "metrics line 1: the value '1,5' of 'a' is not a float"},
        {"a 1\r\n", "metrics line 1: the value '1?' of 'a' is not a float"},
        {"a 1 1.5", "metrics line 1: the timestamp '1.5' of 'a' is not an int64"},
        {"a 1 9223372036854775808", "metrics line 1: the timestamp '9223372036854775808' of 'a' is not an int64"},
        {"a 1 2 3", "metrics line 1: unexpected '3' after the timestamp"},
        {"a{b=c} 1", "metrics line 1: expected '\"' to start the value of the label 'b'"},
        {"a{b} 1", "metrics line 1: expected '=' after the label name 'b'"},
        {"a{b=\"c} 1", "metrics line 1: the value of the label is not closed by '\"' before the end of the line"},
        {"a{b=\"c\"", "metrics line 1: expected ',' or '}' after a label, not the end of the line"},
        {"a{b=\"c\" d=\"e\"} 1", "metrics line 1: expected ',' or '}' after a label, not 'd=\"e\"} 1'"},
        {"a{,} 1", "metrics line 1: invalid label name at ',} 1'"},
        {"a{b:c=\"d\"} 1", "metrics line 1: expected '=' after the label name 'b'"},
        {"a{b=\"\\t\"} 1", "metrics line 1: the value of the label has an invalid escape sequence '\\t'"},
        {"a{b=\"\xff\"} 1", "metrics line 1: the value of the label 'b' is not UTF-8"},
        {"a{b=\"1\",b=\"2\"} 1", "metrics line 1: the label 'b' appears twice"},
        {"a{__name__=\"a\"} 1", "metrics line 1: the label name '__name__' is reserved"},
        {"# HELP a one \\t two", "metrics line 1: the HELP text has an invalid escape sequence '\\t'"},
        {"# HELP a x\n# HELP a y", "metrics line 2: a second HELP line for 'a'"},
        {"# TYPE a gauge\n# TYPE a gauge", "metrics line 2: a second TYPE line for 'a'"},
        {"a 1\n\n# TYPE a gauge", "metrics line 3: the TYPE line for 'a' comes after its samples"},
        {"# TYPE a Counter", "metrics line 1: unknown metric type 'Counter'"},
        {"# TYPE a-b counter", "metrics line 1: invalid metric name in TYPE comment: 'a-b counter'"},
        // A control character in the input is shown as '?', so the message stays one line.
        {"a\x1b[2J 1", "metrics line 1: invalid character '?' after the metric name 'a'"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(parse_error_of(c.text) == c.message);
    }
    try {
        parse_metrics_text("a 1\nb 2\nc x\n");
        FAIL("parsed");
    } catch (const MetricsParseError& error) {
        CHECK(error.line() == 3);
    }
    // Long input is quoted cut short.
    const std::string long_name = "a" + std::string(5000, '-');
    CHECK(parse_error_of(long_name + " 1").size() < 120);
}

TEST_CASE("metrics text: 100,000 labels on one line, and 100,000 lines, parse in linear time",
          "[library][metrics]") {
    // The duplicate-label check is a set, not a scan of the labels before: a quadratic one
    // would need 10^10 comparisons here, minutes instead of a fraction of a second (the bound
    // below leaves room for a loaded machine).
    std::string labels = "a{";
    for (int i = 0; i < 100000; ++i) labels += "l" + std::to_string(i) + "=\"\",";
    labels += "} 1\n";
    std::string lines;
    for (int i = 0; i < 100000; ++i) lines += "a 1\n";
    const auto start = std::chrono::steady_clock::now();
    CHECK(parse_metrics_text(labels).samples.at(0).labels.size() == 100000);
    CHECK(parse_metrics_text(lines).sum("a") == 100000);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

TEST_CASE("debug address: /metrics counts exactly the requests sent, /debug/health and /debug/vars answer",
          "[library][metrics]") {
    Workspace workspace("metrics-debug-address");
    // The native engine is the one that knows its debug address.
    const auto registry = start_registry({}, workspace.path(), "native");
    const std::string debug = registry->debug_url();
    REQUIRE(debug.rfind("http://127.0.0.1:", 0) == 0);
    HttpClient debug_http;
    RegistryClient client(registry->host_port());
    std::vector<std::string> sent;
    client.http().add_observer([&sent](const Exchange& exchange) {
        sent.push_back(exchange.method + " " + std::to_string(exchange.status));
    });

    const MetricsText before = fetch_metrics(debug_http, debug);
    CHECK(before.type_of.at("registry_http_requests_total") == "counter");
    CHECK(before.help_of.at("registry_http_requests_total") == "Total number of HTTP requests made.");

    // Three GET /v2/, two HEADs of a blob that is not there, one tags list of an unknown name.
    for (int i = 0; i < 3; ++i) client.ping();
    const Digest missing = digest_of("not pushed");
    for (int i = 0; i < 2; ++i) CHECK_FALSE(client.blob_size("watched", missing));
    CHECK(list_tags(client, "unknown").empty());  // 404 NAME_UNKNOWN, which list_tags reads as no tags
    REQUIRE(sent == std::vector<std::string>{"GET 200", "GET 200", "GET 200", "HEAD 404", "HEAD 404", "GET 404"});

    const MetricsText after = fetch_metrics(debug_http, debug);
    const auto moved = [&](const Labels& labels) {
        return after.sum("registry_http_requests_total", labels) -
               before.sum("registry_http_requests_total", labels);
    };
    // The registry's labels: code, handler (its route's name), method (lower case).
    CHECK(moved({{"handler", "base"}, {"method", "get"}, {"code", "200"}}) == 3);
    CHECK(moved({{"handler", "blob"}, {"method", "head"}, {"code", "404"}}) == 2);
    CHECK(moved({{"handler", "tags"}, {"method", "get"}, {"code", "404"}}) == 1);
    CHECK(moved({}) == 6);
    // The scrape itself is counted by the handler that serves it, once it has answered.
    CHECK(after.sum("promhttp_metric_handler_requests_total", {{"code", "200"}}) -
              before.sum("promhttp_metric_handler_requests_total", {{"code", "200"}}) == 1);

    const HealthReport health = fetch_health(debug_http, debug);
    CHECK(health.status == 200);
    CHECK(health.healthy());
    CHECK(health.checks == nlohmann::json::object());

    const nlohmann::json vars = fetch_debug_vars(debug_http, debug);
    CHECK(vars.at("cmdline").is_array());
    CHECK(vars.at("memstats").is_object());
    CHECK(vars.contains("registry"));

    // The status gate and the format check, on the same address.
    CHECK_THROWS_AS(fetch_metrics(debug_http, debug, "/no-such-path"), RegistryError);
    CHECK_THROWS_WITH(fetch_metrics(debug_http, debug, "/debug/vars"),
                      Catch::Contains("/debug/vars: the answer is 'application/json") &&
                          Catch::Contains("not the text exposition format"));
    CHECK_THROWS_WITH(fetch_metrics(debug_http, debug, "metrics"), Catch::Contains("starts with '/'"));
}

TEST_CASE("debug address: /debug/health answers 503 with the failing check while it fails", "[library][metrics]") {
    Workspace workspace("metrics-health");
    // health.file: the check fails while the file exists.
    const auto flag = workspace.path() / "unhealthy";
    harness::RegistrySpec spec;
    spec.config_patch = {{"health", {{"file", {{{"file", flag.string()}, {"interval", "1s"}}}}}}};
    const auto registry = start_registry(spec, workspace.path(), "native");
    HttpClient debug_http;

    CHECK(fetch_health(debug_http, registry->debug_url()).status == 200);
    std::ofstream(flag) << "down for maintenance\n";
    const auto wait = [&](unsigned status) {
        HealthReport report;
        for (int i = 0; i < 50; ++i) {
            report = fetch_health(debug_http, registry->debug_url());
            if (report.status == status) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return report;
    };
    const HealthReport down = wait(503);
    CHECK(down.status == 503);
    CHECK_FALSE(down.healthy());
    CHECK(down.checks == nlohmann::json{{flag.string(), "file exists"}});

    std::filesystem::remove(flag);
    const HealthReport up = wait(200);
    CHECK(up.status == 200);
    CHECK(up.checks == nlohmann::json::object());
}
