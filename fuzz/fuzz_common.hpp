// What every fuzz target accepts: the library's documented exceptions, with a one-line message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fuzz {

/// True if `text` holds a carriage return or line feed. Messages may quote their input, so
/// an input that is itself several lines may give a message that is too.
inline bool has_line_break(std::string_view text) {
    return text.find_first_of("\r\n") != std::string_view::npos;
}

/// Aborts (a finding for libFuzzer) if a documented exception carries an empty or
/// multi-line message that cannot be blamed on the input quoted in it.
inline void check_message(const std::exception& error, std::string_view input) {
    const std::string_view what = error.what();
    if (what.empty() || (has_line_break(what) && !has_line_break(input))) {
        std::fprintf(stderr, "fuzz: exception message is not one line: [%s]\n", error.what());
        std::abort();
    }
}

/// Runs `body`; the documented std::invalid_argument / std::runtime_error (and their
/// subclasses) are the expected way to refuse bad input. Anything else escapes and is
/// reported by libFuzzer as an uncaught exception.
template <typename Body>
void expect_documented_errors(std::string_view input, Body&& body) {
    try {
        body();
    } catch (const std::invalid_argument& error) {
        check_message(error, input);
    } catch (const std::runtime_error& error) {
        check_message(error, input);
    }
}

}  // namespace fuzz
