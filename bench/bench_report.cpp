#include "bench_report.hpp"

#include "program_runner.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace fs = std::filesystem;

namespace {

struct Summary {
    double median_s = 0, min_s = 0, max_s = 0;
    double median_mbps = 0, min_mbps = 0, max_mbps = 0;
    double rss_mib = 0;  ///< the median run's peak RSS
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    if (n == 0) return 0;
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Summary summarize(const Measurement& m) {
    Summary s;
    s.median_s = median(m.seconds);
    s.min_s = *std::min_element(m.seconds.begin(), m.seconds.end());
    s.max_s = *std::max_element(m.seconds.begin(), m.seconds.end());
    const double mb = static_cast<double>(m.bytes) / 1e6;
    s.median_mbps = mb / s.median_s;
    s.min_mbps = mb / s.max_s;
    s.max_mbps = mb / s.min_s;
    std::vector<double> rss;
    for (const long kib : m.peak_rss_kib) rss.push_back(static_cast<double>(kib) / 1024);
    s.rss_mib = median(rss);
    return s;
}

const Measurement* find(const BenchReport& report, int number, const std::string& tool) {
    for (const auto& m : report.measurements)
        if (m.case_number == number && m.tool == tool) return &m;
    return nullptr;
}

std::string format(const char* pattern, auto... values) {
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, pattern, values...);
    return buffer;
}

// tool's median MB/s over other's, or 0 when either is missing.
double ratio(const BenchReport& report, int number, const std::string& tool,
             const std::string& other) {
    const Measurement* a = find(report, number, tool);
    const Measurement* b = find(report, number, other);
    if (!a || !b) return 0;
    return summarize(*a).median_mbps / summarize(*b).median_mbps;
}

std::string goal_line(bool met, const std::string& goal, const std::string& numbers) {
    return format("  %-9s %s: %s\n", met ? "[met]" : "[missed]", goal.c_str(), numbers.c_str());
}

std::string ratio_goal(const BenchReport& report, int number, const std::string& other,
                       double wanted, const std::string& goal) {
    const double r = ratio(report, number, "ours", other);
    const double ours = summarize(*find(report, number, "ours")).median_mbps;
    const double theirs = summarize(*find(report, number, other)).median_mbps;
    return goal_line(r >= wanted, goal,
                     format("%.2fx (ours %.0f MB/s, %s %.0f MB/s)", r, ours, other.c_str(), theirs));
}

// An aim of the issue, not a goal: reported beside the goals, labelled so nobody counts it.
std::string ratio_aim(const BenchReport& report, int number, const std::string& other,
                      double wanted, const std::string& aim) {
    const double r = ratio(report, number, "ours", other);
    const double ours = summarize(*find(report, number, "ours")).median_mbps;
    const double theirs = summarize(*find(report, number, other)).median_mbps;
    return format("  %-9s AIM, not a goal: %s: %s\n", r >= wanted ? "[reached]" : "[short]",
                  aim.c_str(),
                  format("%.2fx (ours %.0f MB/s, %s %.0f MB/s)", r, ours, other.c_str(), theirs)
                      .c_str());
}

std::string range_of(const std::vector<unsigned>& counts) {
    if (counts.empty()) return "-";
    const auto [low, high] = std::minmax_element(counts.begin(), counts.end());
    return *low == *high ? std::to_string(*low)
                         : std::to_string(*low) + "-" + std::to_string(*high);
}

// Issue 14's mirror case: report-only rows, like the HEAD cost and the peak RSS above them.
std::string mirror_section(const MirrorResult& mirror) {
    std::ostringstream out;
    out << format("\nPulls through a mirror (proxy.remoteurl), ours, verified pull, median of %zu; "
                  "report only, no goal:\n",
                  mirror.direct.seconds.size());
    const double direct_s = summarize(mirror.direct).median_s;
    const char* labels[] = {"direct from the upstream", "first through a fresh mirror (cold)",
                            "again through the mirror (cached)"};
    const Measurement* rows[] = {&mirror.direct, &mirror.cold, &mirror.cached};
    for (int i = 0; i < 3; ++i) {
        const Summary s = summarize(*rows[i]);
        const std::string range = format("(%.0f-%.0f)", s.min_mbps, s.max_mbps);
        out << format("  %-37s %6.0f MB/s %11s %7.3f s  %5.2fx the direct pull's time\n",
                      labels[i], s.median_mbps, range.c_str(), s.median_s, s.median_s / direct_s);
    }
    std::string seen;
    for (const auto& request : mirror.cached_upstream_seen)
        seen += (seen.empty() ? "" : ", ") + request;
    out << format("  the upstream served, by its log: %s blob GETs per cold pull (for %zu blobs), "
                  "%s per cached pull;\n  the mirror had stored every blob %.2f s (median) after "
                  "a cold pull ended\n",
                  range_of(mirror.cold_upstream_blob_gets).c_str(), mirror.blob_count,
                  range_of(mirror.cached_upstream_blob_gets).c_str(),
                  median(mirror.store_lag_seconds))
        << format("  all the upstream saw of a cached pull (%s requests): %s\n",
                  range_of(mirror.cached_upstream_requests).c_str(), seen.c_str());
    return out.str();
}

const ReplicaSetup* find_setup(const ReplicasResult& replicas, const std::string& name) {
    for (const auto& s : replicas.setups)
        if (s.name == name && !s.push.seconds.empty()) return &s;
    return nullptr;
}

// Issue 15's goal: the balancer costs little. Replicas cannot add CPU on this machine's 2 cores,
// so the worst ratio of any nginx setup to one replica directly is what is judged: a push
// against the "direct" setup's (one push per cluster), a pull against the pulls bypassing
// nginx in the same cluster, taken right after each pull through it.
std::string balancer_goal(const ReplicasResult& replicas) {
    const ReplicaSetup* direct = find_setup(replicas, "direct");
    if (!direct) return {};
    const double direct_push = summarize(direct->push).median_mbps;
    const double direct_pull = summarize(direct->pull).median_mbps;
    double worst = 1e9;
    std::string numbers;
    for (const auto& s : replicas.setups) {
        if (!s.through_nginx || s.push.seconds.empty()) continue;
        const double push = summarize(s.push).median_mbps / direct_push;
        const double pull = s.pull_bypassing_nginx.seconds.empty()
                                ? summarize(s.pull).median_mbps / direct_pull
                                : summarize(s.pull).median_mbps /
                                      summarize(s.pull_bypassing_nginx).median_mbps;
        worst = std::min({worst, push, pull});
        numbers += format("%s%d: push %.2fx, pull %.2fx", numbers.empty() ? "" : "; ",
                          s.replicas, push, pull);
    }
    return goal_line(worst >= 0.9, "through nginx >= 0.9x one replica directly",
                     "replicas " + numbers);
}

// Issue 15's replicas case: MB/s of every setup, the ratios to one replica directly and to the
// filesystem registry, the spread over replicas, the OSD's memory, and the balancer's goal.
std::string replicas_section(const ReplicasResult& replicas) {
    std::ostringstream out;
    const ReplicaSetup* direct = find_setup(replicas, "direct");
    const ReplicaSetup* filesystem = find_setup(replicas, "filesystem");
    if (!direct || !filesystem) return {};
    const double direct_push = summarize(direct->push).median_mbps;
    const double direct_pull = summarize(direct->pull).median_mbps;
    const double fs_push = summarize(filesystem->push).median_mbps;
    const double fs_pull = summarize(filesystem->pull).median_mbps;
    out << format("\nReplicas on Ceph RGW behind nginx (chapter 15), ours, push and verified pull "
                  "of %u x %llu MiB layers\n(a smaller image: memstore keeps it in the OSD's RAM), "
                  "a fresh registry or Ceph cluster per setup, median of %zu pushes and %zu pulls "
                  "(each push pulled %zu times;\n'x bypass': through nginx over pulls from the "
                  "first replica directly, each right after one through nginx):\n",
                  replicas.layers, static_cast<unsigned long long>(replicas.layer_bytes >> 20),
                  direct->push.seconds.size(), direct->pull.seconds.size(),
                  direct->pull.seconds.size() / std::max<std::size_t>(1, direct->push.seconds.size()))
        << format("  %-40s %9s %9s %9s %9s %9s %8s  %s\n", "setup", "push MB/s", "x direct",
                  "pull MB/s", "x direct", "x bypass", "OSD RSS", "requests per replica (nginx log)");
    for (const auto& s : replicas.setups) {
        const double push = summarize(s.push).median_mbps;
        const double pull = summarize(s.pull).median_mbps;
        std::vector<double> rss;
        for (const long kib : s.osd_rss_kib) rss.push_back(static_cast<double>(kib) / 1024);
        std::string served;
        for (const unsigned n : s.served_per_replica)
            served += (served.empty() ? "" : " / ") + std::to_string(n);
        const std::string bypass =
            s.pull_bypassing_nginx.seconds.empty()
                ? "-"
                : format("%.2fx", pull / summarize(s.pull_bypassing_nginx).median_mbps);
        out << format("  %-40s %9.0f %8.2fx %9.0f %8.2fx %9s %8s  %s\n", s.label.c_str(), push,
                      push / direct_push, pull, pull / direct_pull, bypass.c_str(),
                      rss.empty() ? "-" : format("%.0f MiB", median(rss)).c_str(),
                      served.empty() ? "-" : served.c_str());
    }
    out << format("  one replica on RGW directly vs the filesystem registry: push %.2fx, pull "
                  "%.2fx; Ceph start-up %.1f s per cluster (median, untimed)\n",
                  direct_push / fs_push, direct_pull / fs_pull, median(replicas.ceph_startup_seconds))
        << balancer_goal(replicas);
    return out.str();
}

}  // namespace

std::string format_report(const BenchReport& report) {
    std::ostringstream out;
    out << report.header << '\n';
    if (!report.measurements.empty()) {
        out << format("%-28s %-7s %8s %15s %9s %8s %7s %9s\n", "case", "tool", "MB/s",
                      "(min-max)", "median s", "x skopeo", "x curl", "peak RSS");
        for (const auto& m : report.measurements) {
            const Summary s = summarize(m);
            const std::string range = format("(%.0f-%.0f)", s.min_mbps, s.max_mbps);
            out << format("%d %-26s %-7s %8.0f %15s %9.3f %8.2f %7.2f %5.1f MiB\n",
                          m.case_number, m.case_name.c_str(), m.tool.c_str(), s.median_mbps,
                          range.c_str(), s.median_s,
                          ratio(report, m.case_number, m.tool, "skopeo"),
                          ratio(report, m.case_number, m.tool, "curl"), s.rss_mib);
        }
        out << "MB = 10^6 bytes; MB/s = the image's bytes over the median wall time of the tool's "
               "process; 'curl' is the bound:\nparallel curl with every digest known (push: POST + "
               "PUT ?digest= per blob, all at once; pull: GETs to files;\ncopy: GET piped into PUT; "
               "within a registry: cross-repository mounts). Peak RSS: ru_maxrss of the median run.\n";
    }

    if (report.heads) {
        const HeadsResult& heads = *report.heads;
        out << "\nOne request on a reused connection (workbook_transfer heads, median of runs):\n  "
            << heads.line << '\n'
            << format("  curl -I with %u URLs on one connection, for reference: %.3f ms per "
                      "request\n",
                      heads.count, heads.curl_per_request_ms)
            << format("  the registry's own time per HEAD (its log's http.response.duration, "
                      "median): %.3f ms\n",
                      heads.registry_per_request_ms);
    }
    if (report.big_layer) {
        const BigLayerResult& big = *report.big_layer;
        out << format("\nPeak RSS of ours on a %.0f MiB single-layer image: push %.1f MiB "
                      "(%.0f MB/s), verified pull %.1f MiB (%.0f MB/s)\n",
                      static_cast<double>(big.bytes) / (1 << 20),
                      static_cast<double>(big.push.peak_rss_kib) / 1024,
                      static_cast<double>(big.bytes) / 1e6 / big.push.seconds,
                      static_cast<double>(big.pull.peak_rss_kib) / 1024,
                      static_cast<double>(big.bytes) / 1e6 / big.pull.seconds);
    }
    if (report.mirror) out << mirror_section(*report.mirror);
    if (report.replicas) out << replicas_section(*report.replicas);
    for (const auto& suite : report.suite_times)
        out << format("\n%s: %.1f s (%s)%s", suite.what.c_str(), suite.seconds,
                      suite.command.c_str(),
                      suite.exit_code == 0
                          ? ""
                          : format(", FAILED with exit %d: %s", suite.exit_code,
                                   suite.failures.c_str()).c_str());
    if (!report.suite_times.empty()) out << '\n';

    if (report.measurements.empty() || !report.heads) {
        out << "\nThe workbook's speed goals are not judged: this run left out cases 1-4 or the "
               "HEADs (--only).\n";
        return out.str();
    }
    const HeadsResult& heads = *report.heads;
    out << "\nThe workbook's speed goals, as ratios from this run:\n";
    out << ratio_goal(report, 1, "curl", 1.0, "push >= 1.0x the parallel-curl bound");
    out << ratio_goal(report, 1, "skopeo", 1.3, "push >= 1.3x skopeo");
    out << ratio_goal(report, 2, "skopeo", 1.35, "verified pull >= 1.35x skopeo");
    out << ratio_aim(report, 2, "curl", 0.9,
                     "verified pull >= 0.9x plain curl into files (curl neither hashes nor "
                     "writes a layout)");
    out << ratio_goal(report, 3, "skopeo", 1.3, "registry -> registry copy >= 1.3x skopeo");
    const double mount_ms = summarize(*find(report, 4, "ours")).median_s * 1e3;
    out << goal_line(mount_ms < 100, "same-registry copy by mount < 100 ms",
                     format("%.0f ms (skopeo %.0f ms, curl mounts %.0f ms)", mount_ms,
                            summarize(*find(report, 4, "skopeo")).median_s * 1e3,
                            summarize(*find(report, 4, "curl")).median_s * 1e3));
    if (report.big_layer) {
        const double push = static_cast<double>(report.big_layer->push.peak_rss_kib) / 1024;
        const double pull = static_cast<double>(report.big_layer->pull.peak_rss_kib) / 1024;
        out << goal_line(push < 32 && pull < 32, "peak RSS < 32 MiB pushing or pulling a 1 GiB layer",
                         format("push %.1f MiB, pull %.1f MiB", push, pull));
    } else {
        out << "  [not measured] peak RSS on a 1 GiB layer (quick run)\n";
    }
    out << goal_line(heads.per_request_ms <= 1.0 && heads.opened_during_heads == 0,
                     "<= 1 ms per request on a reused connection",
                     format("%.3f ms, %ld new connections during %u HEADs (curl: %.3f ms; "
                            "the registry itself: %.3f ms)",
                            heads.per_request_ms, heads.opened_during_heads, heads.count,
                            heads.curl_per_request_ms, heads.registry_per_request_ms));
    if (report.replicas) out << balancer_goal(*report.replicas);
    if (report.suite_times.empty()) {
        out << "  [not measured] native test suite and book build < 60 s each (--suite-times)\n";
    } else {
        for (const auto& suite : report.suite_times)
            out << goal_line(suite.seconds < 60 && suite.exit_code == 0, suite.what + " < 60 s",
                             format("%.1f s%s", suite.seconds,
                                    suite.exit_code == 0 ? "" : ", and it failed"));
    }
    return out.str();
}

std::string format_csv(const BenchReport& report) {
    std::ostringstream out;
    out << "case,case_name,tool,bytes,reps,median_s,min_s,max_s,median_mbps,min_mbps,max_mbps,"
           "ratio_to_skopeo,ratio_to_bound,peak_rss_mib\n";
    for (const auto& m : report.measurements) {
        const Summary s = summarize(m);
        out << format("%d,%s,%s,%llu,%zu,%.4f,%.4f,%.4f,%.1f,%.1f,%.1f,%.3f,%.3f,%.1f\n",
                      m.case_number, m.case_name.c_str(), m.tool.c_str(),
                      static_cast<unsigned long long>(m.bytes), m.seconds.size(), s.median_s,
                      s.min_s, s.max_s, s.median_mbps, s.min_mbps, s.max_mbps,
                      ratio(report, m.case_number, m.tool, "skopeo"),
                      ratio(report, m.case_number, m.tool, "curl"), s.rss_mib);
    }
    // The mirror's rows: no skopeo or curl to compare with, so those two columns stay empty.
    if (report.mirror)
        for (const Measurement* m :
             {&report.mirror->direct, &report.mirror->cold, &report.mirror->cached}) {
            const Summary s = summarize(*m);
            out << format("%d,%s,%s,%llu,%zu,%.4f,%.4f,%.4f,%.1f,%.1f,%.1f,,,%.1f\n",
                          m->case_number, m->case_name.c_str(), m->tool.c_str(),
                          static_cast<unsigned long long>(m->bytes), m->seconds.size(),
                          s.median_s, s.min_s, s.max_s, s.median_mbps, s.min_mbps, s.max_mbps,
                          s.rss_mib);
        }
    // The replicas' rows: likewise no skopeo or curl.
    if (report.replicas)
        for (const auto& setup : report.replicas->setups)
            for (const Measurement* m : {&setup.push, &setup.pull, &setup.pull_bypassing_nginx}) {
                if (m->seconds.empty()) continue;
                const Summary s = summarize(*m);
                out << format("%d,%s,%s,%llu,%zu,%.4f,%.4f,%.4f,%.1f,%.1f,%.1f,,,%.1f\n",
                              m->case_number, m->case_name.c_str(), m->tool.c_str(),
                              static_cast<unsigned long long>(m->bytes), m->seconds.size(),
                              s.median_s, s.min_s, s.max_s, s.median_mbps, s.min_mbps,
                              s.max_mbps, s.rss_mib);
            }
    return out.str();
}

void draw_chart(const BenchReport& report, const fs::path& folder, bool svg_only) {
    const char* labels[] = {"", "push", "pull (verified)", "copy registry->registry",
                            "copy within a registry"};
    std::ofstream data(folder / "chart.dat");
    data << "# case ours skopeo curl (median MB/s)\n";
    for (int number = 1; number <= 4; ++number) {
        data << '"' << labels[number] << '"';
        for (const auto& tool : tools) {
            const Measurement* m = find(report, number, tool);
            data << ' ' << (m ? summarize(*m).median_mbps : 0.0);
        }
        data << '\n';
    }
    data.close();
    double highest = 10;
    for (const auto& m : report.measurements) highest = std::max(highest, summarize(m).median_mbps);

    std::ostringstream script;
    script << "set style data histograms\n"
              "set style histogram clustered gap 1\n"
              "set style fill solid 0.85 border -1\n"
              "set logscale y\n"
              "set yrange [10:"
           << highest * 4
           << "]\n"
              "set ylabel 'MB/s (median, log scale)'\n"
              "set grid ytics\n"
              "set key top left horizontal\n"
              "set title 'Registry Workbook benchmark: "
           << (report.quick ? "quick run" : "full run")
           << ", higher is better'\n"
              "plot 'chart.dat' using 2:xtic(1) title 'ours (wbclient)', \\\n"
              "     '' using 3 title 'skopeo copy', \\\n"
              "     '' using 4 title 'parallel curl (bound)', \\\n"
              "     '' using ($0-0.25):2:(sprintf('%.0f',$2)) with labels offset 0,0.7 font ',9' notitle, \\\n"
              "     '' using ($0):3:(sprintf('%.0f',$3)) with labels offset 0,0.7 font ',9' notitle, \\\n"
              "     '' using ($0+0.25):4:(sprintf('%.0f',$4)) with labels offset 0,0.7 font ',9' notitle\n";
    std::ofstream(folder / "chart.gp")
        << "set terminal svg size 860,460 dynamic font 'sans,12' background '#ffffff'\n"
           "set output 'chart.svg'\n"
        << script.str()
        << (svg_only ? "" : "set terminal pngcairo size 1000,540 font 'sans,11'\n"
                            "set output 'chart.png'\nreplot\n");
    const harness::RunResult run =
        harness::run_program({"gnuplot", "chart.gp"}, {.working_directory = folder});
    if (run.exit_code != 0)
        throw std::runtime_error("gnuplot failed: " + (run.err.empty() ? run.out : run.err));
}

}  // namespace bench
