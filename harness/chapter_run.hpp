// Runs one chapter program the way a test needs it: in the test's workspace, with a
// transcript, and hands back what the client saw.
#pragma once

#include "observed_exchange.hpp"
#include "program_runner.hpp"
#include "workspace.hpp"

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace harness {

struct ChapterRun {
    RunResult result;
    std::vector<ObservedExchange> transcript;  ///< the client's view, in order
};

/// Runs build/examples/<program> with `args` in `workspace`, recording its HTTP exchanges.
/// Past `timeout` the program is killed and the result says timed_out.
ChapterRun run_chapter(const std::string& program, const std::vector<std::string>& args,
                       const Workspace& workspace, std::map<std::string, std::string> environment = {},
                       std::chrono::seconds timeout = std::chrono::seconds(120));

/// The exchanges whose path starts with `prefix` and, if given, whose method is `method`.
std::vector<ObservedExchange> select(const std::vector<ObservedExchange>& exchanges,
                                     const std::string& method, const std::string& prefix = "/");

/// True if `text` is exactly one line (one trailing newline), as every error must be.
bool is_one_line(const std::string& text);

}  // namespace harness
