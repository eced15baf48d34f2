#include "event_receiver.hpp"
#include "poll_until.hpp"

#include "wbclient/http/url.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace harness {
namespace {

using std::chrono::system_clock;

std::string string_field(const nlohmann::json& object, const char* name) {
    const auto found = object.find(name);
    return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::string rfc3339(system_clock::time_point time) {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch());
    const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%09lldZ", static_cast<long long>(since_epoch.count() % 1'000'000'000));
    return text;
}

}  // namespace

system_clock::time_point parse_event_time(const std::string& text) {
    std::tm tm{};
    std::istringstream in(text.substr(0, 19));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (in.fail() || text.size() < 20 || text.back() != 'Z')
        throw std::runtime_error("event timestamp '" + text + "' is not RFC 3339 in UTC");
    // Go drops trailing zeros of the fraction: ".69372234" is 693722340 ns.
    long long nanoseconds = 0;
    if (text[19] == '.') {
        std::string digits = text.substr(20, text.size() - 21);
        if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
            throw std::runtime_error("event timestamp '" + text + "' has no valid fraction of a second");
        digits.resize(9, '0');
        nanoseconds = std::stoll(digits);
    } else if (text.size() != 20) {
        throw std::runtime_error("event timestamp '" + text + "' is not RFC 3339 in UTC");
    }
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
        std::chrono::seconds(timegm(&tm)) + std::chrono::nanoseconds(nanoseconds)));
}

std::vector<ReceivedEvent> events_of(const nlohmann::json& envelope, system_clock::time_point received) {
    if (!envelope.is_object() || !envelope.contains("events") || !envelope["events"].is_array())
        throw std::runtime_error("a notification must be a JSON object with an events array");
    std::vector<ReceivedEvent> events;
    for (const nlohmann::json& raw : envelope["events"]) {
        if (!raw.is_object()) throw std::runtime_error("an event is not a JSON object: " + raw.dump());
        const nlohmann::json target = raw.value("target", nlohmann::json::object());
        const nlohmann::json request = raw.value("request", nlohmann::json::object());
        ReceivedEvent event{.id = string_field(raw, "id"),
                            .action = string_field(raw, "action"),
                            .repository = string_field(target, "repository"),
                            .tag = string_field(target, "tag"),
                            .digest = string_field(target, "digest"),
                            .media_type = string_field(target, "mediaType"),
                            .from_repository = string_field(target, "fromRepository"),
                            .url = string_field(target, "url"),
                            .size = target.contains("size") && target["size"].is_number_unsigned()
                                        ? target["size"].get<std::uint64_t>() : 0,
                            .request_method = string_field(request, "method"),
                            .user_agent = string_field(request, "useragent"),
                            .timestamp = string_field(raw, "timestamp"),
                            .raw = raw};
        event.latency = std::chrono::duration_cast<std::chrono::microseconds>(received - parse_event_time(event.timestamp));
        events.push_back(std::move(event));
    }
    return events;
}

nlohmann::json deliveries_json(const std::vector<Delivery>& deliveries) {
    nlohmann::json list = nlohmann::json::array();
    for (const Delivery& delivery : deliveries)
        list.push_back({{"received", rfc3339(delivery.received)},
                        {"received_unix_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                                 delivery.received.time_since_epoch()).count()},
                        {"answered", delivery.answered},
                        {"content_type", delivery.content_type},
                        {"user_agent", delivery.user_agent},
                        {"envelope", delivery.envelope}});
    return list;
}

EventReceiver::EventReceiver(unsigned short port) : port_(port) {
    start();
}

EventReceiver::~EventReceiver() { stop(); }

std::string EventReceiver::host_port() const { return "127.0.0.1:" + std::to_string(port_); }
std::string EventReceiver::url() const { return "http://" + host_port() + "/events"; }

void EventReceiver::set_mode(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
}

void EventReceiver::stop() {
    // Destroying the server closes the port and every connection, including hung ones.
    std::unique_ptr<ScriptedServer> server;
    {
        std::lock_guard lock(mutex_);
        server = std::move(server_);
    }
    server.reset();
}

void EventReceiver::start() {
    if (running()) return;
    auto server = std::make_unique<ScriptedServer>(
        RequestHandler([this](const ScriptedRequest& request) { return handle(request); }), port_);
    std::lock_guard lock(mutex_);
    if (port_ == 0) {
        const std::string host_port = server->host_port();
        port_ = static_cast<unsigned short>(std::stoi(host_port.substr(host_port.rfind(':') + 1)));
    }
    server_ = std::move(server);
}

bool EventReceiver::running() const {
    std::lock_guard lock(mutex_);
    return server_ != nullptr;
}

ScriptedResponse EventReceiver::handle(const ScriptedRequest& request) {
    const auto received = system_clock::now();
    const auto received_steady = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (request.method == "GET") {
        // What an operator's tool (the chapter's program) reads: what arrived since POST
        // number `from` (0 by default), and how many POSTs arrived in all.
        std::string query;
        try {
            query = wbclient::Url("http://" + host_port() + request.target).query();
        } catch (const std::exception& error) {
            return {.status = 400, .body = std::string(error.what()) + "\n"};
        }
        std::size_t from = 0;
        if (query.starts_with("from=")) {
            const auto [end, error] = std::from_chars(query.data() + 5, query.data() + query.size(), from);
            if (error != std::errc() || end != query.data() + query.size())
                return {.status = 400, .body = "from=N: N is the number of POSTs already seen\n"};
        }
        const std::vector<Delivery> since(deliveries_.begin() + static_cast<long>(std::min(from, deliveries_.size())),
                                          deliveries_.end());
        return {.status = 200,
                .headers = {{"Content-Type", "application/json"}},
                .body = nlohmann::json{{"count", deliveries_.size()}, {"deliveries", deliveries_json(since)}}.dump()};
    }
    if (request.method != "POST") return {.status = 405, .body = "POST events here, GET them back\n"};
    Delivery delivery{.received = received,
                      .received_steady = received_steady,
                      .content_type = request.header("Content-Type"),
                      .user_agent = request.header("User-Agent"),
                      .target = request.target,
                      .envelope = nlohmann::json::parse(request.body, nullptr, false)};
    if (delivery.envelope.is_discarded()) delivery.envelope = nullptr;
    switch (mode_) {
    case Mode::accept:
        delivery.answered = 200;
        deliveries_.push_back(std::move(delivery));
        return {.status = 200};
    case Mode::fail:
        delivery.answered = 500;
        deliveries_.push_back(std::move(delivery));
        return {.status = 500, .body = "receiver failing on purpose\n"};
    case Mode::never_answer:
        deliveries_.push_back(std::move(delivery));
        return {.delivery = ScriptedResponse::Delivery::never_answer};
    }
    return {.status = 500};
}

std::vector<Delivery> EventReceiver::deliveries() const {
    std::lock_guard lock(mutex_);
    return deliveries_;
}

std::vector<ReceivedEvent> EventReceiver::events() const {
    const std::vector<Delivery> all = deliveries();
    std::vector<ReceivedEvent> events;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].answered != 200 || all[i].envelope.is_null()) continue;
        // A POST that is no envelope of events stays in deliveries() only.
        std::vector<ReceivedEvent> posted;
        try {
            posted = events_of(all[i].envelope, all[i].received);
        } catch (const std::exception&) {
            continue;
        }
        for (ReceivedEvent& event : posted) {
            event.delivery = i;
            events.push_back(std::move(event));
        }
    }
    return events;
}

bool EventReceiver::wait_for_events(std::size_t count, std::chrono::milliseconds timeout) const {
    return poll_until([&] {
        std::size_t seen = 0;
        for (const Delivery& delivery : deliveries())
            if (delivery.answered == 200 && delivery.envelope.is_object() && delivery.envelope.contains("events"))
                seen += delivery.envelope["events"].size();
        return seen >= count;
    }, timeout);
}

bool EventReceiver::wait_for_deliveries(std::size_t count, std::chrono::milliseconds timeout) const {
    return poll_until([&] { return deliveries().size() >= count; }, timeout);
}

nlohmann::json EventReceiver::endpoint_config(const std::string& name, std::chrono::milliseconds timeout,
                                              int threshold, std::chrono::milliseconds backoff) const {
    // Go durations as the registry's YAML reads them ("1000ms").
    return {{"notifications",
             {{"endpoints",
               {{{"name", name},
                 {"url", url()},
                 {"timeout", std::to_string(timeout.count()) + "ms"},
                 {"threshold", threshold},
                 {"backoff", std::to_string(backoff.count()) + "ms"}}}}}}};
}

}  // namespace harness
