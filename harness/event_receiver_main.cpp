// A notification receiver for a reader's own registry: listens on 127.0.0.1:<port>, prints one
// line per event the registry POSTs, and answers GET /events with what it got (what chapter
// 13's program reads). Ctrl-C stops it.
//
// Usage: event_receiver [port]     (default 5007; the registry's config then names
//        http://localhost:5007/events under notifications.endpoints)
#include "event_receiver.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char* argv[]) try {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        std::cerr << "usage: event_receiver [port]   e.g. 5007\n";
        return EXIT_FAILURE;
    }
    const int port = argc == 2 ? std::atoi(argv[1]) : 5007;
    if (port < 1 || port > 65535) throw std::invalid_argument(std::string("port '") + argv[1] + "' is not 1-65535");

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    harness::EventReceiver receiver(static_cast<unsigned short>(port));
    std::cout << "receiving events on " << receiver.url() << " (GET it for the list). Ctrl-C stops.\n" << std::flush;
    std::size_t shown = 0;
    while (true) {
        const timespec poll_interval{0, 100'000'000};
        if (sigtimedwait(&stop_signals, nullptr, &poll_interval) > 0) break;
        const auto events = receiver.events();
        for (; shown < events.size(); ++shown) {
            const harness::ReceivedEvent& event = events[shown];
            std::cout << event.action << " " << event.repository << (event.tag.empty() ? "" : ":" + event.tag) << " "
                      << event.digest << (event.from_repository.empty() ? "" : " from " + event.from_repository) << " ("
                      << event.request_method << " by " << event.user_agent << ", id " << event.id << ")\n";
        }
        std::cout << std::flush;
    }
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "event_receiver: " << error.what() << "\n";
    return EXIT_FAILURE;
}
