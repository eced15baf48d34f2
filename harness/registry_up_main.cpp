// `./workbook up`: the reader's registry on localhost:5000 and the upstream on :5001, in the
// foreground, printing the registry's access log live (like `docker compose up`). Ctrl-C, or
// `./workbook down` from another terminal, stops both.
//
// Usage: registry_up <state-dir> [native|compose [registry-port upstream-port]]
#include "busybox_image.hpp"
#include "registry_instance.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string_view>

namespace fs = std::filesystem;

namespace {

std::string describe(const harness::ObservedExchange& exchange) {
    return exchange.method + " " + exchange.uri + " -> " + std::to_string(exchange.status) +
           " (" + std::to_string(exchange.bytes_received) + " bytes written, " +
           exchange.user_agent + ")";
}

}  // namespace

int main(int argc, char* argv[]) try {
    constexpr const char* usage = "usage: registry_up <state-dir> [native|compose [registry-port upstream-port]]";
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        std::cout << usage << "\n";
        return EXIT_SUCCESS;
    }
    // An option where the state folder belongs would otherwise become a folder named "--x".
    if ((argc != 2 && argc != 3 && argc != 5) || argv[1][0] == '-' || argv[1][0] == '\0') {
        std::cerr << usage << "\n";
        return EXIT_FAILURE;
    }
    const auto port_argument = [&](int index, unsigned short fallback) -> unsigned short {
        if (argc <= index) return fallback;
        const int port = std::atoi(argv[index]);
        if (port < 1 || port > 65535)
            throw std::invalid_argument(std::string("port '") + argv[index] + "' is not 1-65535");
        return static_cast<unsigned short>(port);
    };
    const unsigned short registry_port = port_argument(3, 5000);
    const unsigned short upstream_port = port_argument(4, 5001);
    const fs::path state = fs::absolute(argv[1]);
    const std::string engine = argc > 2 ? argv[2] : harness::engine_from_environment();
    fs::create_directories(state);

    // Signals are taken synchronously below, so the registries are always stopped cleanly.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // "It answers" must mean "it is ready": a script that waits for /v2/ on :5001 or :5000 and
    // then runs chapter 01 must find busybox there. So the upstream is seeded first on a
    // private free port, then started on its public port over the same storage, and the
    // reader's registry opens last. Seeding is idempotent: the same files, the same digests.
    {
        auto seeding = harness::start_registry(
            {.role = "upstream", .compose_project = "registry-workbook-seeding"}, state, engine);
        wbclient::RegistryClient seeding_client(seeding->host_port());
        harness::seed_busybox(seeding_client);
    }
    auto upstream = harness::start_registry(
        {.role = "upstream", .port = upstream_port, .compose_project = "registry-workbook-upstream"},
        state, engine);
    auto registry = harness::start_registry(
        {.role = "registry", .port = registry_port, .compose_project = "registry-workbook"}, state, engine);
    std::ofstream(state / "registry-up.pid") << ::getpid() << "\n";

    std::cout << "registry  http://localhost:" << registry_port << "  (" << engine << ", storage "
              << registry->storage_root().string() << ")\n"
              << "upstream  http://localhost:" << upstream_port
              << "  (plays Docker Hub: library/busybox:latest)\n"
              << "Access log of localhost:" << registry_port << " follows. Ctrl-C or ./workbook down stops both.\n"
              << std::flush;

    std::size_t shown = 0;
    while (true) {
        const timespec poll_interval{0, 250'000'000};
        if (sigtimedwait(&stop_signals, nullptr, &poll_interval) > 0) break;
        const auto exchanges = registry->access_log();
        for (; shown < exchanges.size(); ++shown) std::cout << describe(exchanges[shown]) << "\n";
        std::cout << std::flush;
    }
    std::cout << "Stopping the registries.\n";
    registry->stop();
    upstream->stop();
    fs::remove(state / "registry-up.pid");
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "registry_up: " << error.what() << "\n";
    return EXIT_FAILURE;
}
