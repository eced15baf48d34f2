// Waiting for something to be observed, with a deadline: the one polling loop of the harness
// and the tests.
#pragma once

#include <chrono>
#include <thread>

namespace harness {

/// Polls `condition` every millisecond until it holds (true) or `timeout` passes (false): for
/// code that acts at the moment it observes something.
template <class Condition>
bool poll_until(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace harness
