// waddle reference: the command reference in scdoc, generated from the command tree, so that
// waddle(1) documents every noun, verb, argument and option that --help knows. The build
// substitutes it into man/waddle.1.scd at @COMMAND_REFERENCE@.
#include <sstream>

#include "nouns.hpp"

namespace waddle::cli {
namespace {

// scdoc treats *, _ and \ as markup: escape them in prose.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string option_usage(const CLI::Option* opt) {
  std::string names;
  for (const auto& s : opt->get_snames())
    names += (names.empty() ? "*-" : ", *-") + escape(s) + "*";
  for (const auto& l : opt->get_lnames()) {
    names += (names.empty() ? "*--" : ", *--") + escape(l) + "*";
  }
  if (opt->get_items_expected_max() > 0) {  // flags take no value
    std::string value = opt->get_type_name().empty() ? "VALUE" : opt->get_type_name();
    names += " _" + escape(value) + "_";
  }
  return names;
}

void describe(const CLI::App* app, const std::string& path, std::ostringstream& out) {
  auto subs = app->get_subcommands([](const CLI::App*) { return true; });
  std::string usage = "*" + path + "*";
  std::vector<const CLI::Option*> options;
  for (const auto* opt : app->get_options()) {
    if (opt->get_positional()) {
      usage += " " + std::string(opt->get_required() ? "" : "[") + "_" + escape(opt->get_name()) +
               "_" + (opt->get_items_expected_max() > 1 ? "..." : "") +
               (opt->get_required() ? "" : "]");
    } else if (opt->get_lnames() != std::vector<std::string>{"help"}) {
      options.push_back(opt);
    }
  }
  if (!options.empty()) usage += " [_options_]";
  if (!subs.empty() && path != "waddle") usage += " _verb_";
  if (path != "waddle") {
    out << usage << "\n\t" << escape(app->get_description()) << "\n";
    for (const auto* opt : app->get_options()) {
      if (!opt->get_positional()) continue;
      out << "\n\t_" << escape(opt->get_name()) << "_: " << escape(opt->get_description()) << "\n";
    }
    for (const auto* opt : options) {
      out << "\n\t" << option_usage(opt) << ": " << escape(opt->get_description()) << "\n";
    }
    out << "\n";
  }
  for (const auto* sub : subs) describe(sub, path + " " + sub->get_name(), out);
}

}  // namespace

void add_reference_commands(CLI::App& app, Context& ctx) {
  auto* reference = app.add_subcommand(
      "reference", "print the command reference in scdoc (the build puts it in waddle(1))");
  reference->callback([&app, &ctx] {
    std::ostringstream out;
    for (const auto* noun : app.get_subcommands([](const CLI::App*) { return true; })) {
      out << "## " << noun->get_name() << "\n\n";
      describe(noun, "waddle " + noun->get_name(), out);
    }
    ctx.out() << out.str();
  });
}

}  // namespace waddle::cli
