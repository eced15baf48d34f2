// A receiver for the registry's notifications (notifications.endpoints in its config): a real
// HTTP server on loopback that records every envelope the registry POSTs, and can play a
// receiver that is down, failing (500) or hung, so tests can watch what the registry's queue
// does. It also answers GET /events[?from=N] with what it got ({"count": POSTs in all,
// "deliveries": those after the first N}), so a chapter program can read the events the way
// an operator's tool would, over HTTP.
#pragma once

#include "scripted_server.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace harness {

/// One event of an envelope, with the fields 2.8.2 really sends picked out (checked against
/// the registry: `target.fromRepository` only for mounts, `target.tag` only when a tag was
/// named, a delete carries only repository and digest or tag).
struct ReceivedEvent {
    std::string id;  ///< a UUID, the same on every retry of the same event
    std::string action;  ///< push, pull, mount, delete
    std::string repository, tag, digest, media_type, from_repository, url;
    std::uint64_t size = 0;
    std::string request_method, user_agent;  ///< of the client request that caused it
    std::string timestamp;  ///< the registry's clock when it made the event (RFC 3339, ns)
    /// The receipt time minus the event's own timestamp: the delivery latency. Both clocks
    /// are this machine's.
    std::chrono::microseconds latency{0};
    std::size_t delivery = 0;  ///< which POST carried it (index into deliveries())
    nlohmann::json raw;        ///< the event as sent
};

/// One POST the registry made to the receiver, however it was answered.
struct Delivery {
    std::chrono::system_clock::time_point received;
    std::chrono::steady_clock::time_point received_steady;
    std::string content_type, user_agent, target;
    /// What the receiver answered: 200, 500, or 0 when it never answered.
    unsigned answered = 0;
    nlohmann::json envelope;  ///< the body ({"events": [...]}), null if it was not JSON
};

class EventReceiver {
public:
    /// How the receiver answers a POST.
    enum class Mode {
        accept,        ///< 200, and its events count as received
        fail,          ///< 500 Internal Server Error
        never_answer,  ///< reads the request, then silence with the connection open
    };

    /// Starts listening on 127.0.0.1:`port` (a free port when 0), accepting.
    explicit EventReceiver(unsigned short port = 0);
    ~EventReceiver();
    EventReceiver(const EventReceiver&) = delete;
    EventReceiver& operator=(const EventReceiver&) = delete;

    /// "http://127.0.0.1:<port>/events": where the registry should POST.
    std::string url() const;
    std::string host_port() const;

    void set_mode(Mode mode);
    /// Closes the port: the registry's POSTs get "connection refused" until start().
    void stop();
    /// Listens again on the same port (what the registry's config names).
    void start();
    bool running() const;

    /// Every POST so far, in the order received.
    std::vector<Delivery> deliveries() const;
    /// The events of every POST answered 200, in order: what the receiver got. A POST whose
    /// body is no envelope of events (see events_of) is left out here.
    std::vector<ReceivedEvent> events() const;
    /// Polls until events() holds at least `count` events or `timeout` passes; true if it does.
    bool wait_for_events(std::size_t count, std::chrono::milliseconds timeout) const;
    /// Polls until `count` POSTs arrived (however answered) or `timeout` passes.
    bool wait_for_deliveries(std::size_t count, std::chrono::milliseconds timeout) const;

    /// A registry config patch (RegistrySpec::config_patch) naming this receiver as the
    /// endpoint `name`, with the endpoint's timeout, threshold and backoff.
    nlohmann::json endpoint_config(const std::string& name = "receiver",
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(1000),
                                   int threshold = 3,
                                   std::chrono::milliseconds backoff = std::chrono::milliseconds(1000)) const;

private:
    ScriptedResponse handle(const ScriptedRequest& request);

    unsigned short port_ = 0;
    mutable std::mutex mutex_;
    Mode mode_ = Mode::accept;
    std::vector<Delivery> deliveries_;
    std::unique_ptr<ScriptedServer> server_;
};

/// The events of one envelope ({"events": [...]}) as sent, picked apart; `received` is when
/// the envelope arrived. Throws std::runtime_error, one line, if it is no envelope.
std::vector<ReceivedEvent> events_of(const nlohmann::json& envelope,
                                     std::chrono::system_clock::time_point received);

/// "2026-12-07T18:47:20.693722345Z" (Go's RFC 3339 with nanoseconds, UTC) -> a time point.
/// Throws std::runtime_error, one line, for anything else.
std::chrono::system_clock::time_point parse_event_time(const std::string& text);

/// The deliveries as the receiver's GET /events answers them (a JSON array, each with
/// received (RFC 3339), answered, content_type, user_agent and envelope).
nlohmann::json deliveries_json(const std::vector<Delivery>& deliveries);

}  // namespace harness
