// A chapter's conversation in a form that stays the same from run to run, committed as
// chapters/golden/NN.conversation, so a change in what the program or the registry does
// fails the book's build with a diff instead of slipping into the book unnoticed.
#pragma once

#include "recorded_conversation.hpp"

#include <string>
#include <vector>

namespace book {

/// One line per exchange: "<party> <method> <path template> <status>".
std::vector<std::string> golden_lines(const Conversation& conversation);

/// The file's text: a header saying what it is, then golden_lines. `any_order` keeps the
/// "# order: any" mark of a run whose requests race.
std::string golden_file_text(const Conversation& conversation, bool any_order);

/// Whether a golden file's text carries "# order: any".
bool compares_in_any_order(const std::string& golden_text);

/// Compares a recording with the committed file's text. Parties talk at the same time, so
/// only each party's own sequence must match; "# order: any" in the file compares each
/// party's exchanges as a set (a run whose requests race). Returns "" when they agree, else
/// a readable diff naming each differing exchange by its number in the recording.
std::string compare_with_golden(const Conversation& conversation, const std::string& golden_text);

}  // namespace book
