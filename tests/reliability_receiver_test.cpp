// Reliability: a notification receiver killed in the middle of a burst. Given a registry 2.8.2
// that reports to the harness's receiver (threshold 3, backoff 500 ms), when four clients make
// 200 requests that each cause one event and the receiver goes away once a quarter of them has
// arrived (its port closed, open connections cut), then after it comes back on the same port
// every event arrives: none is lost, and an event is received twice at most where the cut
// caught a POST between the receiver recording it and the registry reading the 200 (the
// registry's at-least-once promise).
//
// The moment of the cut comes from what the test observes (the events received so far), not
// from a sleep.
#include "event_receiver.hpp"
#include "registry_instance.hpp"
#include "test_support.hpp"

#include "wbclient/distribution/registry_client.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <thread>

using namespace harness;
using namespace std::chrono_literals;

TEST_CASE("reliability: a receiver killed mid-burst loses no event", "[reliability]") {
    Workspace workspace("reliability-receiver");
    EventReceiver receiver;
    auto registry = start_registry(
        {.role = "registry", .config_patch = receiver.endpoint_config("receiver", 1000ms, 3, 500ms)}, workspace.path(), "native");
    wbclient::RegistryClient client(registry->host_port());
    const std::string bytes = "one pull event per HEAD";
    client.push_blob("burst/events", bytes);
    REQUIRE(receiver.wait_for_events(1, 5000ms));
    const wbclient::Digest digest = wbclient::digest_of(bytes);

    constexpr int clients = 4, per_client = 50, burst = clients * per_client;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&] {
            wbclient::RegistryClient own(registry->host_port());
            for (int i = 0; i < per_client; ++i) own.blob_size("burst/events", digest);
        });
    // The cut: once a quarter of the burst has arrived.
    const bool quarter = receiver.wait_for_events(1 + burst / 4, 20000ms);
    receiver.stop();
    const std::size_t before_cut = receiver.events().size();
    for (auto& thread : threads) thread.join();
    REQUIRE(quarter);
    std::this_thread::sleep_for(1500ms);  // three backoffs with the receiver gone
    receiver.start();
    REQUIRE(receiver.wait_for_events(1 + burst, 30000ms));
    std::this_thread::sleep_for(1000ms);  // anything more would come now

    const auto events = receiver.events();
    std::map<std::string, int> received;
    for (std::size_t i = 1; i < events.size(); ++i) {
        CHECK(events[i].action == "pull");
        ++received[events[i].id];
    }
    INFO(before_cut << " events before the cut, " << events.size() << " in all");
    CHECK(received.size() == burst);  // none lost
    int twice = 0;
    for (const auto& [id, count] : received) {
        CHECK(count <= 2);
        twice += count - 1;
    }
    CHECK(twice <= 1);  // only a POST in flight at the cut can come again
    CHECK(before_cut < 1 + burst);
}
