// Turns each recorded chapter run into what its page shows: a sequence diagram (mscgen, drawn
// by Doxygen's \mscfile), the summary table, the curl replay and the folded run; and checks
// the run against its committed golden conversation.
//
// Usage: conversation_views [--update-golden] <recorded-dir> <golden-dir> <chapter-program>...
//   Reads <recorded-dir>/<program>.{transcript.jsonl,out,registry.jsonl} and replacements.json
//   (written by record_chapters); writes <program>.msc, <program>.views.html and
//   <program>.replay.sh and <program>.narration.out (the program's lines alone) beside them. Compares each run with <golden-dir>/NN.conversation
//   (NN: the program's first two characters) and exits non-zero, printing a diff, when one
//   differs or is missing. --update-golden writes the golden files instead. Every
//   \exchange{NN,K,...} in <golden-dir>/../*.md must match exchange K of chapter NN's run.
//   Also writes reference_endpoints.html and reference_errors.html (the reference pages).
#include "conversation_page.hpp"
#include "curl_replay.hpp"
#include "exchange_claims.hpp"
#include "golden_conversation.hpp"
#include "recorded_conversation.hpp"
#include "reference_pages.hpp"
#include "sequence_diagram.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

int main(int argc, char* argv[]) try {
    int first = 1;
    const bool update_golden = argc > 1 && std::string(argv[1]) == "--update-golden";
    if (update_golden) ++first;
    if (argc < first + 3) {
        std::cerr << "usage: conversation_views [--update-golden] <recorded-dir> <golden-dir> <chapter-program>...\n";
        return EXIT_FAILURE;
    }
    const fs::path recorded = argv[first];
    const fs::path golden_dir = argv[first + 1];
    const book::Replacements replacements = book::read_replacements(recorded / "replacements.json");
    int failures = 0;
    std::map<std::string, book::Conversation> recorded_chapters;
    for (int i = first + 2; i < argc; ++i) {
        const std::string program = fs::path(argv[i]).filename().string();
        const std::string number = program.substr(0, 2);
        const book::Conversation& conversation = recorded_chapters[number] =
            book::read_conversation(recorded, program, replacements);
        const std::string anchor_prefix = book::exchange_anchor_prefix(number);
        const auto replay = book::replay_commands(conversation, replacements);
        write_text(recorded / (program + ".msc"), book::sequence_diagram(conversation, anchor_prefix));
        write_text(recorded / (program + ".views.html"),
                   book::conversation_html(conversation, replay, read_text(recorded / (program + ".out")), anchor_prefix));
        write_text(recorded / (program + ".replay.sh"), book::replay_script(conversation, replay));
        write_text(recorded / (program + ".narration.out"), book::narration_text(conversation));

        const fs::path golden = golden_dir / (number + ".conversation");
        if (update_golden) {
            const bool any_order = fs::exists(golden) && book::compares_in_any_order(read_text(golden));
            write_text(golden, book::golden_file_text(conversation, any_order));
            continue;
        }
        if (!fs::exists(golden)) {
            std::cerr << "conversation_views: no golden conversation " << golden << " for " << program
                      << "; write it from this recording with: cmake --build build --target book_golden\n";
            ++failures;
            continue;
        }
        if (const std::string report = book::compare_with_golden(conversation, read_text(golden)); !report.empty()) {
            std::cerr << "conversation_views: chapter " << number << "'s conversation differs from " << golden << ":\n"
                      << report << "(if the change is right: cmake --build build --target book_golden, then commit "
                      << golden.filename().string() << ")\n";
            ++failures;
        }
    }
    // The reference pages (chapters/reference.md) index what all the runs together show.
    write_text(recorded / "reference_endpoints.html", book::endpoints_html(recorded_chapters));
    write_text(recorded / "reference_errors.html", book::error_codes_html(recorded_chapters));

    const fs::path chapters = golden_dir.parent_path();
    if (const std::string report = book::check_claims(book::find_claims(chapters), recorded_chapters); !report.empty()) {
        std::cerr << "conversation_views: the prose points at exchanges that no longer say what it claims:\n"
                  << report;
        ++failures;
    }
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const std::exception& error) {
    std::cerr << "conversation_views: " << error.what() << "\n";
    return EXIT_FAILURE;
}
