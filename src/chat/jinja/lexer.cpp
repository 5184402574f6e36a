#include "chat/jinja/lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// jinja2 reads the source with every \r\n and \r turned into \n and, as
// keep_trailing_newline is off, without one final newline.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Resolves the escapes of a string literal as Python's "unicode-escape"
// codec does. An unknown escape keeps its backslash.
std::string unescape(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 == body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex_escape = [&](size_t digits) {
      std::string hex(body.substr(i + 1, digits));
      bool complete = hex.size() == digits;
      for (char h : hex) complete = complete && std::isxdigit(static_cast<unsigned char>(h));
      if (!complete) {
        throw TemplateError(TemplateErrorKind::syntax, "truncated \\" + std::string(1, e) + " escape in string literal", line);
      }
      char32_t cp = static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16));
      if (cp > 0x10FFFF) throw TemplateError(TemplateErrorKind::syntax, "invalid \\U escape in string literal", line);
      append_utf8(out, cp);
      i += digits;
    };
    switch (e) {
      case '\n': break;  // a backslash before a newline continues the line
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': hex_escape(2); break;
      case 'u': hex_escape(4); break;
      case 'U': hex_escape(8); break;
      default:
        if (e >= '0' && e <= '7') {
          char32_t cp = e - '0';
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) cp = cp * 8 + (body[++i] - '0');
          append_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options) : source_(normalize_newlines(source)), options_(options) {}

  std::vector<Token> run() {
    while (pos_ < source_.size()) lex_text();
    push(TokenType::eof, "");
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw TemplateError(TemplateErrorKind::syntax, message, line_);
  }

  bool at(size_t pos, std::string_view text) const { return source_.compare(pos, text.size(), text) == 0; }

  size_t skip_space(size_t pos) const {
    while (size_t n = space_length_at(source_, pos)) pos += n;
    return pos;
  }

  // Moves to `to` and counts lines. `line_starting_` records whether the
  // consumed text ended a line, which lstrip_blocks checks.
  void advance(size_t to) {
    for (size_t i = pos_; i < to; ++i) {
      if (source_[i] == '\n') ++line_;
    }
    if (to > pos_) line_starting_ = source_[to - 1] == '\n';
    pos_ = to;
  }

  void push(TokenType type, std::string text) {
    Token token;
    token.type = type;
    token.text = std::move(text);
    token.line = line_;
    tokens_.push_back(std::move(token));
  }

  // Applies whitespace control to the text before a tag: '-' strips all
  // whitespace, and lstrip_blocks strips the indentation of a block or
  // comment tag that starts its line.
  std::string_view control_whitespace(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') return strip_space(text, false, true);
    if (sign == '+' || !options_.lstrip_blocks || is_variable) return text;

    size_t line_start = text.rfind('\n');
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    if (line_start == 0 && !line_starting_) return text;
    std::string_view indentation = text.substr(line_start);
    if (!indentation.empty() && strip_space(indentation, true, false).empty()) return text.substr(0, line_start);
    return text;
  }

  void emit_data(std::string_view text, size_t end) {
    int line = line_;
    if (!text.empty()) {
      Token token;
      token.type = TokenType::data;
      token.text = std::string(text);
      token.line = line;
      tokens_.push_back(std::move(token));
    }
    advance(end);
  }

  // The end of a `{% raw %}` opening tag that starts at `tag`, or 0 when the tag is not one.
  size_t raw_begin_end(size_t tag) const {
    size_t p = tag + 2;
    if (p < source_.size() && (source_[p] == '-' || source_[p] == '+')) ++p;
    p = skip_space(p);
    if (!at(p, "raw")) return 0;
    p = skip_space(p + 3);
    if (at(p, "-%}")) return skip_space(p + 3);
    if (at(p, "%}")) return p + 2;
    return 0;
  }

  void lex_text() {
    size_t tag = pos_;
    while (true) {
      tag = source_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= source_.size()) {
        emit_data(std::string_view(source_).substr(pos_), source_.size());
        return;
      }
      char next = source_[tag + 1];
      if (next == '{' || next == '%' || next == '#') break;
      ++tag;
    }

    char kind = source_[tag + 1];
    size_t after = tag + 2;
    char sign = after < source_.size() && (source_[after] == '-' || source_[after] == '+') ? source_[after] : 0;
    if (sign) ++after;

    std::string_view text = std::string_view(source_).substr(pos_, tag - pos_);
    text = control_whitespace(text, sign, kind == '{');

    if (kind == '%') {
      if (size_t raw_end = raw_begin_end(tag)) {
        emit_data(text, raw_end);
        lex_raw();
        return;
      }
    }
    emit_data(text, after);
    if (kind == '#') {
      lex_comment();
    } else {
      lex_tag(kind == '%');
    }
  }

  void lex_comment() {
    for (size_t p = pos_; p + 1 < source_.size(); ++p) {
      if (at(p, "+#}")) return advance(p + 3);
      if (at(p, "-#}")) return advance(skip_space(p + 3));
      if (at(p, "#}")) return advance(p + 2 + (options_.trim_blocks && at(p + 2, "\n") ? 1 : 0));
    }
    fail("missing end of comment tag");
  }

  void lex_raw() {
    for (size_t p = pos_; p + 1 < source_.size(); ++p) {
      if (!at(p, "{%")) continue;
      size_t q = p + 2;
      char sign = q < source_.size() && (source_[q] == '-' || source_[q] == '+') ? source_[q] : 0;
      if (sign) ++q;
      q = skip_space(q);
      if (!at(q, "endraw")) continue;
      q = skip_space(q + 6);

      size_t end;
      if (at(q, "+%}")) {
        end = q + 3;
      } else if (at(q, "-%}")) {
        end = skip_space(q + 3);
      } else if (at(q, "%}")) {
        end = q + 2 + (options_.trim_blocks && at(q + 2, "\n") ? 1 : 0);
      } else {
        continue;
      }
      std::string_view text = std::string_view(source_).substr(pos_, p - pos_);
      emit_data(control_whitespace(text, sign, false), end);
      return;
    }
    fail("missing end of raw directive");
  }

  // The end of the closing delimiter at pos_, or 0 when there is none there.
  size_t tag_end(bool block) const {
    if (block) {
      if (at(pos_, "+%}")) return pos_ + 3;
      if (at(pos_, "-%}")) return skip_space(pos_ + 3);
      if (at(pos_, "%}")) return pos_ + 2 + (options_.trim_blocks && at(pos_ + 2, "\n") ? 1 : 0);
      return 0;
    }
    if (at(pos_, "-}}")) return skip_space(pos_ + 3);
    if (at(pos_, "}}")) return pos_ + 2;
    return 0;
  }

  void lex_tag(bool block) {
    push(block ? TokenType::block_begin : TokenType::variable_begin, "");
    std::vector<char> brackets;  // closers of the open brackets, innermost last
    while (true) {
      if (pos_ >= source_.size()) fail(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");

      // Inside brackets the closing delimiter is not recognized, as in jinja2.
      if (brackets.empty()) {
        if (size_t end = tag_end(block)) {
          push(block ? TokenType::block_end : TokenType::variable_end, "");
          advance(end);
          return;
        }
      }
      if (size_t end = skip_space(pos_); end > pos_) {
        advance(end);
        continue;
      }

      char c = source_[pos_];
      if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t end = pos_;
        while (end < source_.size() && is_name_char(source_[end])) ++end;
        push(TokenType::name, source_.substr(pos_, end - pos_));
        advance(end);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(brackets);
      }
    }
  }

  size_t digits_end(size_t p, bool (*digit)(char)) const {
    // Digits with single underscores between them, as Python literals allow.
    if (p >= source_.size() || !digit(source_[p])) return p;
    ++p;
    while (p < source_.size()) {
      if (digit(source_[p])) {
        ++p;
      } else if (source_[p] == '_' && p + 1 < source_.size() && digit(source_[p + 1])) {
        p += 2;
      } else {
        break;
      }
    }
    return p;
  }

  void lex_number() {
    auto decimal = [](char c) { return is_digit(c); };
    size_t int_end = digits_end(pos_, decimal);

    // A float has a fraction or an exponent, and digits right after '.' never start one.
    size_t end = int_end;
    bool after_dot = pos_ > 0 && source_[pos_ - 1] == '.';
    if (!after_dot) {
      size_t p = int_end;
      bool has_fraction = false;
      if (at(p, ".") && p + 1 < source_.size() && is_digit(source_[p + 1])) {
        p = digits_end(p + 1, decimal);
        has_fraction = true;
      }
      size_t exponent_end = 0;
      if (p < source_.size() && (source_[p] == 'e' || source_[p] == 'E')) {
        size_t q = p + 1;
        if (q < source_.size() && (source_[q] == '+' || source_[q] == '-')) ++q;
        size_t digits = digits_end(q, decimal);
        if (digits > q) exponent_end = digits;
      }
      if (exponent_end) {
        end = exponent_end;
      } else if (has_fraction) {
        end = p;
      }
    }

    std::string text;
    for (size_t i = pos_; i < end; ++i) {
      if (source_[i] != '_') text += source_[i];
    }
    if (end > int_end) {
      Token token;
      token.type = TokenType::floating;
      token.text = text;
      token.line = line_;
      token.float_value = std::strtod(text.c_str(), nullptr);
      tokens_.push_back(std::move(token));
      advance(end);
      return;
    }
    lex_integer();
  }

  void lex_integer() {
    // 0b, 0o and 0x prefixes, otherwise decimal, where a leading 0 is a whole literal.
    int base = 10;
    size_t start = pos_;
    size_t end;
    if (source_[pos_] == '0' && pos_ + 1 < source_.size() && std::string_view("bBoOxX").find(source_[pos_ + 1]) != std::string_view::npos) {
      char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(source_[pos_ + 1])));
      base = prefix == 'b' ? 2 : (prefix == 'o' ? 8 : 16);
      start = pos_ + 2;
      end = start;
      while (end < source_.size()) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(source_[end])));
        bool digit = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c < '0' + base);
        if (digit || (c == '_' && end + 1 < source_.size())) {
          ++end;
        } else {
          break;
        }
      }
      if (end == start) fail("invalid integer literal '" + source_.substr(pos_, 2) + "'");
    } else if (source_[pos_] == '0') {
      end = pos_ + 1;
      while (end < source_.size() && (source_[end] == '0' || (source_[end] == '_' && at(end + 1, "0")))) ++end;
    } else {
      end = digits_end(pos_, [](char c) { return is_digit(c); });
    }

    std::string digits;
    for (size_t i = start; i < end; ++i) {
      if (source_[i] != '_') digits += source_[i];
    }
    errno = 0;
    char* parse_end = nullptr;
    unsigned long long value = std::strtoull(digits.c_str(), &parse_end, base);
    if (errno == ERANGE || value > static_cast<unsigned long long>(INT64_MAX)) {
      fail("integer literal " + source_.substr(pos_, end - pos_) + " does not fit in 64 bits");
    }
    Token token;
    token.type = TokenType::integer;
    token.text = source_.substr(pos_, end - pos_);
    token.line = line_;
    token.int_value = static_cast<int64_t>(value);
    tokens_.push_back(std::move(token));
    advance(end);
  }

  void lex_string(char quote) {
    size_t p = pos_ + 1;
    while (p < source_.size() && source_[p] != quote) p += source_[p] == '\\' ? 2 : 1;
    if (p >= source_.size()) fail(std::string("unterminated string literal starting with ") + quote);
    push(TokenType::string, unescape(std::string_view(source_).substr(pos_ + 1, p - pos_ - 1), line_));
    advance(p + 1);
  }

  void lex_operator(std::vector<char>& brackets) {
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwoChar) {
      if (at(pos_, op)) {
        push(TokenType::op, std::string(op));
        advance(pos_ + 2);
        return;
      }
    }

    char c = source_[pos_];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      fail(fmt::format("unexpected character '{}'", c));
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) fail(fmt::format("unexpected '{}'", c));
      if (brackets.back() != c) fail(fmt::format("unexpected '{}', expected '{}'", c, brackets.back()));
      brackets.pop_back();
    }
    push(TokenType::op, std::string(1, c));
    advance(pos_ + 1);
  }

  std::string source_;
  LexerOptions options_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace edgelm::jinja
