#pragma once
// jinja2's compile-time scoping rules, which decide what a name means before
// the template runs.
//
// jinja2 compiles each scope (the template, a for loop body, a macro, a with,
// filter or block-set body) to a Python function. A name the scope assigns is
// a local of that function for the whole scope. When the scope assigns the
// name before it reads it, and no enclosing scope assigns it, the local starts
// as undefined and hides the render variable of the same name, also from loops
// nested inside the scope. Example, with x passed to render():
//   {% for i in [1] %}{{ x }}{% endfor %}{% set x = 2 %}   prints nothing.
// Everything else matches a plain lookup through the enclosing scopes.

#include "chat/jinja/ast.h"

namespace edgelm::jinja {

// Fills the LocalNames of every scope in the tree, emulating the symbol
// tracking of jinja2 3.1.6 (jinja2/idtracking.py).
void analyze_scopes(TemplateTree& tree);

}  // namespace edgelm::jinja
