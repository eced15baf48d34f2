// Finds the stretches of a conversation that repeat ("HEAD, POST, PUT" once per blob), so a
// diagram can draw them once with "× 4" instead of four times.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace book {

/// `length` exchanges from `first`, drawn once, happening `times` times in a row.
struct Stretch {
    std::size_t first = 0;
    std::size_t length = 1;
    std::size_t times = 1;
};

/// Splits `keys` (one per exchange: lifeline, method, path template, status) into stretches.
/// A stretch repeats when each copy holds the same keys, in any order: exchanges that run at
/// the same time (an upstream GET beside its upload) finish in either order.
std::vector<Stretch> find_repeats(const std::vector<std::string>& keys, std::size_t longest = 8);

}  // namespace book
