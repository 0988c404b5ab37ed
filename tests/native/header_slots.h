// The handle slots of the C ABI, read from worldpm.h itself: every parameter of a
// WPM_API prototype that is a context, buffer, communicator or graph handle (or an array of
// them), and every such field of a parameter struct a prototype takes. The handle
// confusion tests drive their cases from this list, so a function or field added to
// the header is covered, or the tests say which invoker lacks it.
#pragma once

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace wpm_test {

enum class SlotKind { context, buffer, comm, graph };

inline const char* slot_kind_name(SlotKind kind) {
  switch (kind) {
    case SlotKind::context: return "context";
    case SlotKind::buffer: return "buffer";
    case SlotKind::comm: return "comm";
    case SlotKind::graph: return "graph";
  }
  return "?";
}

// One place a handle goes: function, the argument name the library reports for it
// ("a" for a struct field, "grads[0]" for the first entry of an array), and its kind.
struct HandleSlot {
  std::string function;
  std::string argument;
  SlotKind kind;
  std::string in_struct;  // the parameter struct holding the field ("" for a parameter)
};

struct HeaderDeclaration {
  std::string type;  // spaces removed around '*': "constwpm_buffer*const*" reads "const wpm_buffer*const*"
  std::string name;
};

namespace header_detail {

inline std::string without_comments(const std::string& text) {
  static const std::regex comment(R"(/\*[\s\S]*?\*/|//[^\n]*)");
  return std::regex_replace(text, comment, " ");
}

// "const wpm_buffer * const * x" -> {"const wpm_buffer*const*", "x"}.
inline HeaderDeclaration split_declaration(std::string text) {
  static const std::regex star_spaces(R"(\s*\*\s*)"), spaces(R"(\s+)");
  text = std::regex_replace(text, star_spaces, "*");
  text = std::regex_replace(text, spaces, " ");
  while (!text.empty() && text.front() == ' ') text.erase(text.begin());
  while (!text.empty() && text.back() == ' ') text.pop_back();
  const size_t cut = text.find_last_of(" *");
  if (cut == std::string::npos) return {"", text};
  std::string type = text.substr(0, cut + 1);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return {type, text.substr(cut + 1)};
}

inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);)
    if (part.find_first_not_of(" \t\n") != std::string::npos) parts.push_back(part);
  return parts;
}

// The handle a declared type carries: a single handle, an array of them, or none.
struct HandleType {
  bool is_handle = false;
  bool is_array = false;
  SlotKind kind = SlotKind::buffer;
};

inline HandleType handle_type(const std::string& type) {
  static const std::regex single(R"(^(const )?wpm_(context|buffer|comm|graph)\*$)");
  static const std::regex array(R"(^(const )?wpm_(context|buffer|comm|graph)\*const\*$)");
  std::smatch m;
  HandleType result;
  if (std::regex_match(type, m, single)) {
    result.is_handle = true;
  } else if (std::regex_match(type, m, array)) {
    result.is_handle = result.is_array = true;
  } else {
    return result;
  }
  const std::string kind = m[2];
  result.kind = kind == "context" ? SlotKind::context
                : kind == "buffer"  ? SlotKind::buffer
                : kind == "graph"   ? SlotKind::graph
                                    : SlotKind::comm;
  return result;
}

}  // namespace header_detail

struct HeaderFunction {
  std::string name;
  std::vector<HeaderDeclaration> params;
};

struct Header {
  std::vector<HeaderFunction> functions;
  std::map<std::string, std::vector<HeaderDeclaration>> structs;  // typedef name -> fields
};

inline Header parse_header(const std::string& raw) {
  using namespace header_detail;
  const std::string text = without_comments(raw);
  Header header;
  static const std::regex prototype(R"(WPM_API\s+[\w\s\*]*?\b(wpm_\w+)\s*\(([^)]*)\)\s*;)");
  for (std::sregex_iterator it(text.begin(), text.end(), prototype), end; it != end; ++it) {
    HeaderFunction function{(*it)[1], {}};
    for (const std::string& param : split((*it)[2], ',')) {
      HeaderDeclaration declaration = split_declaration(param);
      if (!(declaration.type.empty() && declaration.name == "void")) function.params.push_back(declaration);
    }
    header.functions.push_back(function);
  }
  static const std::regex structure(R"(typedef\s+struct\s+\w+\s*\{([^}]*)\}\s*(\w+)\s*;)");
  for (std::sregex_iterator it(text.begin(), text.end(), structure), end; it != end; ++it) {
    std::vector<HeaderDeclaration>& fields = header.structs[(*it)[2]];
    for (const std::string& statement : split((*it)[1], ';')) {
      // "int64_t m, n, k": the type of the first declarator, every name.
      std::vector<std::string> declarators = split(statement, ',');
      HeaderDeclaration first = split_declaration(declarators[0]);
      fields.push_back(first);
      for (size_t i = 1; i < declarators.size(); ++i)
        fields.push_back({first.type, split_declaration(declarators[i]).name});
    }
  }
  return header;
}

inline Header read_header() {
  std::ifstream file(WORLDPM_HEADER_PATH);
  std::stringstream text;
  text << file.rdbuf();
  return parse_header(text.str());
}

// Every handle slot of every prototype, struct fields expanded ("const wpm_gemm_params* params" gives
// a, b and c of wpm_gemm); an array gives its first entry.
inline std::vector<HandleSlot> handle_slots(const Header& header) {
  using namespace header_detail;
  std::vector<HandleSlot> slots;
  auto add = [&](const std::string& function, const HeaderDeclaration& declaration, const std::string& in_struct) {
    const HandleType type = handle_type(declaration.type);
    if (type.is_handle)
      slots.push_back({function, declaration.name + (type.is_array ? "[0]" : ""), type.kind, in_struct});
  };
  static const std::regex struct_pointer(R"(^(const )?(wpm_\w+)\*$)");
  for (const HeaderFunction& function : header.functions) {
    for (const HeaderDeclaration& param : function.params) {
      add(function.name, param, "");
      std::smatch m;
      if (std::regex_match(param.type, m, struct_pointer)) {
        auto fields = header.structs.find(m[2]);
        if (fields != header.structs.end())
          for (const HeaderDeclaration& field : fields->second) add(function.name, field, m[2]);
      }
    }
  }
  return slots;
}

}  // namespace wpm_test
