// Each recorded exchange as the curl command that sends it again: against localhost:5000
// (and :5001 for the upstream), credentials as $REGISTRY_AUTH, bodies as files under
// bodies/ named by digest, upload sessions followed through $location.
#pragma once

#include "recorded_conversation.hpp"

#include <string>
#include <vector>

namespace book {

struct ReplayCommand {
    int number = 0;        ///< the exchange it replays
    std::string comment;   ///< "# 3: HEAD ... (recorded: 404)"
    std::string command;   ///< one shell command line
};

std::vector<ReplayCommand> replay_commands(const Conversation& conversation, const Replacements& replacements);

/// The commands as one bash script, in order: what a reader pastes, what the replay test runs.
std::string replay_script(const Conversation& conversation, const std::vector<ReplayCommand>& commands);

}  // namespace book
