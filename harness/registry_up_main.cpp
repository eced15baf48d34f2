// `./workbook up`: the reader's registry on localhost:5000 and the upstream on :5001, in the
// foreground, printing the registry's access log live (like `docker compose up`); with
// --mirror also chapter 12's pull-through cache of the upstream on :5004. Ctrl-C, or
// `./workbook down` from another terminal, stops them all.
//
// Usage: registry_up [--mirror] <state-dir> [native|compose [registry-port upstream-port [mirror-port]]]
#include "busybox_image.hpp"
#include "registry_instance.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string describe(const harness::ObservedExchange& exchange) {
    return exchange.method + " " + exchange.uri + " -> " + std::to_string(exchange.status) +
           " (" + std::to_string(exchange.bytes_received) + " bytes written, " +
           exchange.user_agent + ")";
}

}  // namespace

int main(int argc, char* argv[]) try {
    constexpr const char* usage =
        "usage: registry_up [--mirror] <state-dir> [native|compose [registry-port upstream-port [mirror-port]]]";
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << usage << "\n";
        return EXIT_SUCCESS;
    }
    const bool with_mirror = !args.empty() && args[0] == "--mirror";
    if (with_mirror) args.erase(args.begin());
    // An option where the state folder belongs would otherwise become a folder named "--x".
    if ((args.size() != 1 && args.size() != 2 && args.size() != 4 &&
         !(args.size() == 5 && with_mirror)) ||
        args[0].empty() || args[0][0] == '-') {
        std::cerr << usage << "\n";
        return EXIT_FAILURE;
    }
    const auto port_argument = [&](std::size_t index, unsigned short fallback) -> unsigned short {
        if (args.size() <= index) return fallback;
        const int port = std::atoi(args[index].c_str());
        if (port < 1 || port > 65535)
            throw std::invalid_argument("port '" + args[index] + "' is not 1-65535");
        return static_cast<unsigned short>(port);
    };
    const unsigned short registry_port = port_argument(2, 5000);
    const unsigned short upstream_port = port_argument(3, 5001);
    // 5004: the mirror's port in chapter 12 and docker-compose.yml.
    const unsigned short mirror_port = port_argument(4, 5004);
    const fs::path state = fs::absolute(args[0]);
    const std::string engine = args.size() > 1 ? args[1] : harness::engine_from_environment();
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
    // The mirror after its upstream answers: 2.8.2 panics at start otherwise (chapter 12).
    std::unique_ptr<harness::RegistryInstance> mirror;
    if (with_mirror) {
        harness::RegistrySpec spec = harness::mirror_of(*upstream);
        spec.port = mirror_port;
        mirror = harness::start_registry(spec, state, engine);
    }
    auto registry = harness::start_registry(
        {.role = "registry", .port = registry_port, .compose_project = "registry-workbook"}, state, engine);
    std::ofstream(state / "registry-up.pid") << ::getpid() << "\n";

    std::cout << "registry  http://localhost:" << registry_port << "  (" << engine << ", storage "
              << registry->storage_root().string() << ")\n"
              << "upstream  http://localhost:" << upstream_port
              << "  (plays Docker Hub: library/busybox:latest)\n";
    if (mirror)
        std::cout << "mirror    http://localhost:" << mirror_port
                  << "  (a pull-through cache of the upstream, storage "
                  << mirror->storage_root().string() << ")\n";
    std::cout << "Access log of localhost:" << registry_port
              << " follows. Ctrl-C or ./workbook down stops them all.\n"
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
    if (mirror) mirror->stop();
    upstream->stop();
    fs::remove(state / "registry-up.pid");
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "registry_up: " << error.what() << "\n";
    return EXIT_FAILURE;
}
