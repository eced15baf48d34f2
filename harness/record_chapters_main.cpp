// Runs every chapter program, in book order, against a fresh registry and upstream, and
// records what the book shows: each run's output with its HTTP exchanges (scrubbed), and the
// raw transcript. `./workbook run` is this, then the book.
//
// Usage: record_chapters [--verbose] [--collect-after <program>[=<repository>]]... <output-dir> <chapter-program>...
//   Prints one line per chapter (passed or failed, seconds, requests, bytes moved) and a
//   closing summary; --verbose (or WORKBOOK_VERBOSE=1) prints each program's narration too.
//   Writes <program>.out (output and exchanges), <program>.transcript.jsonl and
//   <program>.registry.log (the registry's own log lines for that chapter's requests),
//   <program>.registry.jsonl (every log line of that chapter's requests, unscrubbed, for
//   book/conversation_views) and replacements.json (what the scrub writes in for our ports).
//   mirror.panic.out is what 2.8.2 printed when started as a mirror of an upstream that does
//   not answer (chapter 12 shows it).
//   Chapter 13 gets a registry of its own (shown as localhost:5000), natively, that reports to
//   an event receiver running in this process (localhost:5007) and has a maintenance file
//   health check; its debug address is shown as localhost:5006.
//   Chapter 15 gets, only when it is recorded, a one-host Ceph cluster, a Redis, two registry
//   replicas on its bucket behind nginx (shown as localhost:5000, the address clients keep
//   using; the replicas as :5011 and :5012) and a registry on the same bucket with another
//   http.secret (:5013), all native.
//   Chapter 16 needs no service of its own: it runs skopeo, buildah, podman and umoci as
//   processes against the registry and the upstream (their storage in its working folder),
//   and its <program>.registry.jsonl, every client's requests, is what book/views/
//   client_comparison turns into the page's table of clients.
//   --collect-after plays the operator after that chapter: stop the registry, run
//   garbage-collect (dry run, then for real), start it again; the output goes to
//   <program>.gc.out. Written <program>=<repository>, the marking lines of other repositories
//   are left out of it (the summary and every "eligible for deletion" line stay).
#include "busybox_image.hpp"
#include "ceph_cluster.hpp"
#include "event_receiver.hpp"
#include "protected_registries.hpp"
#include "program_runner.hpp"
#include "redis_instance.hpp"
#include "registry_instance.hpp"
#include "registry_replicas.hpp"
#include "scrub.hpp"
#include "workspace.hpp"

#include "wbclient/http/url.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The registry's log lines about the requests a chapter made (not the harness's): each
// request's completion line, and every line it logged on the way ("error authorizing
// context", "upload resumed at wrong offest", ...), which chapters talk about too.
std::string request_lines_since(const harness::RegistryInstance& registry, std::size_t& seen) {
    const auto lines = lines_of(registry.log());
    std::string chapter_lines;
    for (; seen < lines.size(); ++seen) {
        const std::string& line = lines[seen];
        if (line.find("\"http.request.method\":") != std::string::npos &&
            line.find(harness::harness_user_agent) == std::string::npos)
            // Pretty-printed: the book shows these lines to be read, field by field.
            chapter_lines += nlohmann::json::parse(line).dump(2) + "\n";
    }
    return chapter_lines;
}

// Every registry log line a chapter's requests caused, as the registry wrote it (not only
// completion lines: "error authorizing context", "upload resumed at wrong offset", ...).
std::string raw_lines_since(const harness::RegistryInstance& registry, std::size_t seen) {
    const auto lines = lines_of(registry.log());
    std::string chapter_lines;
    for (; seen < lines.size(); ++seen)
        if (lines[seen].find(harness::harness_user_agent) == std::string::npos)
            chapter_lines += lines[seen] + "\n";
    return chapter_lines;
}

// "http://127.0.0.1:41234/token" -> "127.0.0.1:41234".
std::string token_server_host(const std::string& realm) { return wbclient::Url(realm).authority(); }

// The collector's output with the "<repository>: marking ..." lines of repositories other than
// `repository` left out, and a line saying so; all of it when `repository` is empty.
std::string only_repository(const std::string& out, const std::string& repository) {
    if (repository.empty()) return out;
    std::string kept;
    std::size_t left_out = 0;
    for (const std::string& line : lines_of(out)) {
        const bool marking = line.find(": marking ") != std::string::npos;
        // The collector also prints each repository's bare name before its marking lines.
        const bool name_alone = !line.empty() && line.find(' ') == std::string::npos && line.find(':') == std::string::npos;
        if ((marking || name_alone) && !line.starts_with(repository)) ++left_out;
        else kept += line + "\n";
    }
    return "(" + std::to_string(left_out) + " lines about other repositories left out)\n" + kept;
}

// What an operator does between chapters: stop, collect (dry run, then for real), start.
// A plain collection only: --delete-untagged would take later chapters' untagged images.
int collect_garbage(harness::RegistryInstance& registry, const fs::path& output,
                    const std::vector<std::pair<std::string, std::string>>& replacements,
                    const std::string& repository) {
    registry.stop();
    std::string shown;
    int failures = 0;
    for (const std::vector<std::string>& flags : {std::vector<std::string>{"--dry-run"}, std::vector<std::string>{}}) {
        const harness::RunResult gc = registry.garbage_collect(flags);
        shown += "$ docker-registry garbage-collect " + (flags.empty() ? "" : flags[0] + " ") +
                 "config.yml\n" + only_repository(gc.out, repository) + "\n";
        if (gc.exit_code != 0) {
            std::cerr << "record_chapters: garbage-collect failed: " << gc.err;
            ++failures;
        }
    }
    registry.start();
    std::ofstream(output) << harness::scrub(shown, replacements);
    return failures;
}

// "1.4 MB": what a reader takes in at a glance.
std::string human_bytes(std::uint64_t bytes) {
    char text[32];
    if (bytes < 1000) std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    else if (bytes < 1000 * 1000) std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
    else std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    return text;
}

// One line per chapter: what it did, in numbers, and whether it passed.
std::string summary_line(const std::string& name, bool passed, double seconds,
                         const std::vector<harness::ObservedExchange>& exchanges) {
    std::uint64_t moved = 0;
    for (const auto& exchange : exchanges) moved += exchange.bytes_sent + exchange.bytes_received;
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, "%6.1f s %5zu requests %10s moved", seconds,
                  exchanges.size(), human_bytes(moved).c_str());
    std::string padded = name;
    padded.resize(std::max<std::size_t>(padded.size(), 34), ' ');
    return std::string(passed ? "  \u2713 " : "  \u2717 ") + padded + numbers;
}

// The last non-empty line a failed program printed: its one-line error.
std::string last_line(const std::string& text) {
    const auto lines = lines_of(text);
    for (auto line = lines.rbegin(); line != lines.rend(); ++line)
        if (!line->empty()) return *line;
    return "(no output)";
}

}  // namespace

int main(int argc, char* argv[]) try {
    int first = 1;
    const char* verbose_environment = std::getenv("WORKBOOK_VERBOSE");
    bool verbose = verbose_environment && std::string(verbose_environment) == "1";
    std::map<std::string, std::string> collect_after;  // program -> the repository to show, or ""
    for (; first < argc && std::string(argv[first]).starts_with("--"); ++first) {
        const std::string option = argv[first];
        if (option == "--verbose") verbose = true;
        else if (option == "--collect-after" && first + 1 < argc) {
            const std::string value = argv[++first];
            const auto equals = value.find('=');
            collect_after[value.substr(0, equals)] = equals == std::string::npos ? "" : value.substr(equals + 1);
        }
        else argc = 0;  // unknown option: fall through to the usage line
    }
    if (argc < first + 2) {
        std::cerr << "usage: record_chapters [--verbose] [--collect-after <program>[=<repository>]]... <output-dir> "
                     "<chapter-program>...\n";
        return EXIT_FAILURE;
    }
    const fs::path output = fs::absolute(argv[first]);
    fs::create_directories(output);
    harness::Workspace workspace("record");

    auto upstream = harness::start_registry({.role = "upstream"}, workspace.path());
    auto registry = harness::start_registry({.role = "registry"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    harness::seed_busybox(upstream_client);
    // Chapter 12's mirror of the upstream, started once the upstream answers (2.8.2 panics
    // otherwise), always natively: the compose file has no mirror service yet. The program
    // reads the upstream's log file, which only a native upstream has here: on another engine
    // the mirror gets a native upstream of its own, seeded the same way.
    std::unique_ptr<harness::RegistryInstance> native_upstream;
    if (upstream->log_file().empty()) {
        native_upstream = harness::start_registry({.role = "upstream"}, workspace.path() / "mirror-upstream", "native");
        wbclient::RegistryClient native_upstream_client(native_upstream->host_port());
        harness::seed_busybox(native_upstream_client);
    }
    const harness::RegistryInstance& mirrored = native_upstream ? *native_upstream : *upstream;
    auto mirror = harness::start_registry(harness::mirror_of(mirrored), workspace.path(), "native");
    // And what 2.8.2 does when the upstream does not answer: chapter 12 shows that panic.
    std::string dead_upstream;
    const harness::RunResult panic = harness::start_mirror_without_upstream(workspace.path(), dead_upstream);
    // Chapter 13's watched registry: notifications to a receiver here, a maintenance file
    // and a storage-driver health check, checked every second (the compose file has no
    // receiver yet, so always natively).
    harness::EventReceiver receiver;
    const fs::path maintenance = workspace.path() / "maintenance";
    nlohmann::json watched_config = receiver.endpoint_config();
    watched_config["health"] = {{"storagedriver", {{"enabled", true}, {"interval", "1s"}, {"threshold", 1}}},
                                {"file", {{{"file", maintenance.string()}, {"interval", "1s"}}}}};
    auto watched = harness::start_registry({.role = "registry", .config_patch = watched_config},
                                           workspace.path() / "watched", "native");
    // Chapter 10's registries: Basic, Bearer and HTTPS (the other chapters ignore them).
    const harness::ProtectedRegistries protected_registries =
        harness::start_protected_registries(workspace.path() / "protected");

    // Chapter 15's replicas on Ceph, started only for that chapter: Ceph alone takes seconds.
    std::unique_ptr<harness::CephCluster> ceph;
    std::unique_ptr<harness::RedisInstance> replicas_redis;
    std::unique_ptr<harness::ReplicaSet> replicas;
    std::unique_ptr<harness::RegistryInstance> stranger;
    for (int i = first + 1; i < argc; ++i)
        if (fs::path(argv[i]).filename() == "15_scaling_out" && !ceph) {
            const fs::path folder = workspace.path() / "replicas";
            ceph = std::make_unique<harness::CephCluster>(folder);
            replicas_redis = harness::start_redis(folder, {}, "native");
            replicas = std::make_unique<harness::ReplicaSet>(
                folder, ceph->bucket(), harness::ReplicaSetSpec{.replicas = 2, .redis = replicas_redis.get()});
            harness::RegistrySpec stranger_spec = harness::on_s3({.role = "stranger"}, ceph->bucket());
            stranger_spec.config_patch.merge_patch({{"http", {{"secret", "not-the-replicas-secret"}}}});
            stranger = harness::start_registry(stranger_spec, folder, "native");
        }

    // What the reader types is localhost:5000 and :5001; show that, not our free ports.
    std::vector<std::pair<std::string, std::string>> replacements = {
        {registry->host_port(), "localhost:5000"},
        {upstream->host_port(), "localhost:5001"},
        {protected_registries.basic->host_port(), "localhost:5002"},
        {protected_registries.token->host_port(), "localhost:5003"},
        {protected_registries.tls->host_port(), "localhost:5443"},
        {protected_registries.tokens->realm(), "http://localhost:5005/token"},
        // The token server's host:port alone, as in a URL the client printed or a Host header.
        {token_server_host(protected_registries.tokens->realm()), "localhost:5005"},
        {protected_registries.tls_material.ca_certificate.string(), "ca.crt"},
        {protected_registries.auth_file.string(), "auth.json"},
        {mirror->host_port(), "localhost:5004"},
        {mirrored.host_port(), "localhost:5001"},
        {dead_upstream, "localhost:5001"},
        {watched->host_port(), "localhost:5000"},
        {wbclient::Url(watched->debug_url()).authority(), "localhost:5006"},
        {receiver.host_port(), "localhost:5007"},
        {registry->storage_root().string(), "/var/lib/registry"},
        {workspace.path().string() + "/", ""},
    };
    if (replicas) {
        replacements.insert(replacements.begin(), {{replicas->balancer().host_port(), "localhost:5000"},
                                                   {replicas->replica(0).host_port(), "localhost:5011"},
                                                   {replicas->replica(1).host_port(), "localhost:5012"},
                                                   {stranger->host_port(), "localhost:5013"}});
    }

    nlohmann::json replacement_list = nlohmann::json::array();
    for (const auto& [from, to] : replacements) replacement_list.push_back({from, to});
    std::ofstream(output / "replacements.json") << replacement_list.dump(2) << "\n";

    // The panic line and the exit code, as `docker-registry serve` gave them.
    std::string panic_lines = "$ docker-registry serve mirror.yml    # proxy.remoteurl: http://" + dead_upstream + ", not running\n";
    for (const std::string& line : lines_of(panic.err))
        if (line.starts_with("panic:") || line.starts_with("goroutine 1 ")) panic_lines += line + "\n";
    panic_lines += "exit code " + std::to_string(panic.exit_code) + "\n";
    std::ofstream(output / "mirror.panic.out") << harness::scrub(panic_lines, replacements);

    int failures = 0;
    int chapters_failed = 0;
    const auto started = std::chrono::steady_clock::now();
    std::size_t log_lines_seen = lines_of(registry->log()).size();
    for (int i = first + 1; i < argc; ++i) {
        const fs::path program = fs::absolute(argv[i]);
        const std::string name = program.filename().string();
        const fs::path transcript = output / (name + ".transcript.jsonl");
        fs::remove(transcript);
        if (verbose) std::cout << "==== " << name << "\n" << std::flush;
        std::map<std::string, std::string> environment = protected_registries.environment();
        environment.insert({{"WORKBOOK_REGISTRY", registry->host_port()},
                            {"WORKBOOK_UPSTREAM", upstream->host_port()},
                            {"WORKBOOK_STORAGE", registry->storage_root().string()},
                            {"WORKBOOK_MIRROR", mirror->host_port()},
                            {"WORKBOOK_MIRROR_STORAGE", mirror->storage_root().string()},
                            {"WORKBOOK_UPSTREAM_LOG", mirrored.log_file().string()},
                            {"WORKBOOK_VERBOSE", "1"},
                            {"WORKBOOK_TRANSCRIPT", transcript.string()}});
        if (name == "13_watching_the_registry")
            environment.insert_or_assign("WORKBOOK_REGISTRY", watched->host_port());
        if (name == "15_scaling_out" && replicas) {
            environment.insert_or_assign("WORKBOOK_REGISTRY", replicas->balancer().host_port());
            environment.insert({{"WORKBOOK_REPLICAS", replicas->replica(0).host_port() + "," + replicas->replica(1).host_port()},
                                {"WORKBOOK_STRANGER", stranger->host_port()}});
        }
        environment.insert({{"WORKBOOK_DEBUG_URL", watched->debug_url()},
                            {"WORKBOOK_RECEIVER", receiver.url()},
                            {"WORKBOOK_MAINTENANCE_FILE", maintenance.string()}});
        const auto chapter_started = std::chrono::steady_clock::now();
        const harness::RunResult run = harness::run_program(
            {program.string()},
            {.environment = environment, .working_directory = workspace.path(), .merge_output = true});
        const std::string shown = harness::scrub(run.out, replacements);
        std::ofstream(output / (name + ".out")) << shown;
        std::ofstream(output / (name + ".registry.jsonl")) << raw_lines_since(*registry, log_lines_seen);
        std::ofstream(output / (name + ".registry.log"))
            << harness::scrub(request_lines_since(*registry, log_lines_seen), replacements);
        if (verbose) std::cout << shown << std::flush;
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - chapter_started;
        const auto exchanges = fs::exists(transcript) ? harness::read_transcript(transcript)
                                                      : std::vector<harness::ObservedExchange>{};
        std::cout << summary_line(name, run.exit_code == 0, took.count(), exchanges) << "\n";
        if (run.exit_code != 0) {
            std::cout << "      exit " << run.exit_code << (run.timed_out ? " (timed out)" : "")
                      << ": " << last_line(shown) << "\n";
            ++failures;
            ++chapters_failed;
        }
        std::cout << std::flush;
        if (collect_after.contains(name))
            failures += collect_garbage(*registry, output / (name + ".gc.out"), replacements, collect_after.at(name));
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const int chapters = argc - first - 1;
    std::printf("%d of %d chapters passed in %.0f s. Each program's output, transcript and the "
                "registry's log of it:\n  %s/<program>.out, .transcript.jsonl, .registry.log\n",
                chapters - chapters_failed, chapters, took.count(), output.c_str());
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const std::exception& error) {
    std::cerr << "record_chapters: " << error.what() << "\n";
    return EXIT_FAILURE;
}
