#include "chapter_run.hpp"

#include <atomic>

namespace fs = std::filesystem;

namespace harness {

ChapterRun run_chapter(const std::string& program, const std::vector<std::string>& args,
                       const Workspace& workspace, std::map<std::string, std::string> environment,
                       std::chrono::seconds timeout) {
    static std::atomic<int> counter{0};
    const fs::path transcript =
        workspace.path() / (program + "-" + std::to_string(counter++) + ".transcript.jsonl");
    environment["WORKBOOK_TRANSCRIPT"] = transcript.string();
    std::vector<std::string> argv{chapter_program(program).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChapterRun run;
    run.result = run_program(argv, {.environment = environment,
                                    .working_directory = workspace.path(),
                                    .timeout = timeout});
    if (fs::exists(transcript)) run.transcript = read_transcript(transcript);
    return run;
}

std::vector<ObservedExchange> select(const std::vector<ObservedExchange>& exchanges,
                                     const std::string& method, const std::string& prefix) {
    std::vector<ObservedExchange> selected;
    for (const auto& exchange : exchanges)
        if ((method.empty() || exchange.method == method) && exchange.uri.starts_with(prefix))
            selected.push_back(exchange);
    return selected;
}

bool is_one_line(const std::string& text) {
    return !text.empty() && text.back() == '\n' && text.find('\n') == text.size() - 1;
}

}  // namespace harness
