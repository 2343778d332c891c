//! Every generated script checked against the model of Carbonite 8.1.0.677's DoubleTake
//! PowerShell surface (`tests/fixtures/carbonite-api.json`), through the PowerShell grammar:
//! every `*-Dt*` cmdlet and parameter exists, every parameter set used is complete, every
//! property path resolves from the cmdlet's return type, no read-only property is written, no
//! enum gets a name it does not have, no argument is of another model type, every
//! asynchronous cmdlet's `ActivityToken` is kept and waited on, and no `DateTimeOffset`,
//! `TimeSpan` or enum is left for Windows PowerShell 5.1's `ConvertTo-Json` to write as an
//! object or a number. Deliberately broken scripts show that each check fails when it must.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use galaxy_ha::platform::powershell::scripts::{ScriptKind, script};
use serde_json::Value;
use tree_sitter::{Node, Parser};

static MODEL: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("fixtures/carbonite-api.json")).expect("the model reads")
});

/// A type as the model writes it: a key of `types` or `enums`, or a system type, maybe a
/// collection.
#[derive(Debug, Clone, PartialEq)]
struct Ty {
    name: String,
    many: bool,
}

impl Ty {
    fn parse(text: &str) -> Ty {
        // "ActivityStatusEntry | ActivityStatusEntry[]": the first form.
        let text = text.split('|').next().unwrap_or(text).trim();
        let text = text.trim_end_matches('?');
        match text.strip_suffix("[]") {
            Some(base) => Ty {
                name: base.trim_end_matches('?').to_string(),
                many: true,
            },
            None => Ty {
                name: text.to_string(),
                many: false,
            },
        }
    }

    fn one(&self) -> Ty {
        Ty {
            name: self.name.clone(),
            many: false,
        }
    }
}

fn ci_get<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> Option<(&'a str, &'a Value)> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(k, v)| (k.as_str(), v))
}

fn cmdlet(name: &str) -> Option<&'static Value> {
    ci_get(MODEL["cmdlets"].as_object()?, name).map(|(_, v)| v)
}

fn is_class(name: &str) -> bool {
    MODEL["types"].get(name).is_some()
}

fn enum_members(name: &str) -> Option<&'static serde_json::Map<String, Value>> {
    MODEL["enums"].get(name)?.as_object()
}

/// The model key of a .NET full name (`[DoubleTake.Jobs.Contract.JobInfo]`, `New-Object`).
fn key_of_full_name(full: &str) -> Option<String> {
    MODEL["full_names"]
        .as_object()?
        .iter()
        .find(|(_, v)| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(full)))
        .map(|(k, _)| k.clone())
}

fn is_readonly(ty: &str, prop: &str) -> bool {
    MODEL["readonly_properties"]
        .get(ty)
        .and_then(Value::as_array)
        .is_some_and(|l| {
            l.iter()
                .any(|p| p.as_str().is_some_and(|p| p.eq_ignore_ascii_case(prop)))
        })
}

/// Whether a value of type `arg` may be given where `param` is expected.
fn assignable(arg: &Ty, param: &Ty) -> bool {
    if arg.name.eq_ignore_ascii_case(&param.name) {
        return true;
    }
    // A base type of the argument's.
    let mut ty = arg.name.clone();
    for _ in 0..8 {
        match MODEL["bases"].get(&ty).and_then(Value::as_str) {
            Some(b) if b.eq_ignore_ascii_case(&param.name) => return true,
            Some(b) => ty = b.to_string(),
            None => break,
        }
    }
    false
}

/// One script's check.
struct Checker<'t> {
    text: &'t str,
    vars: HashMap<String, Ty>,
    functions: HashMap<String, Ty>,
    errors: Vec<String>,
}

impl<'t> Checker<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            vars: HashMap::new(),
            functions: HashMap::new(),
            errors: Vec::new(),
        }
    }

    fn src(&self, n: Node) -> &'t str {
        &self.text[n.byte_range()]
    }

    fn err(&mut self, n: Node, msg: String) {
        self.errors
            .push(format!("line {}: {msg}", n.start_position().row + 1));
    }

    fn named_children<'a>(n: Node<'a>) -> Vec<Node<'a>> {
        let mut c = n.walk();
        n.named_children(&mut c).collect()
    }

    /// A node with one meaningful child stands for it.
    fn unwrap(mut n: Node) -> Node {
        loop {
            let kids = Self::named_children(n);
            match n.kind() {
                "unary_expression"
                | "pipeline"
                | "pipeline_chain"
                | "left_assignment_expression"
                | "statement_list"
                | "argument_expression"
                | "logical_argument_expression"
                | "bitwise_argument_expression"
                | "comparison_argument_expression"
                | "additive_argument_expression"
                | "multiplicative_argument_expression"
                | "format_argument_expression"
                | "range_argument_expression"
                | "logical_expression"
                | "bitwise_expression"
                | "comparison_expression"
                | "additive_expression"
                | "multiplicative_expression"
                | "format_expression"
                | "range_expression"
                | "array_literal_expression"
                | "expression_with_unary_operator"
                    if kids.len() == 1 =>
                {
                    n = kids[0];
                }
                _ => return n,
            }
        }
    }

    fn var_name(&self, n: Node) -> String {
        self.src(n).trim_start_matches('$').to_ascii_lowercase()
    }

    /// A `[Type]` as a model type, or the system type's name.
    fn type_literal(&self, n: Node) -> Ty {
        let inner = self.src(n).trim_start_matches('[').trim_end_matches(']');
        match key_of_full_name(inner) {
            Some(k) => Ty::parse(&k),
            None => Ty::parse(inner),
        }
    }

    /// Functions return what their `return` gives: a cmdlet's type or another function's.
    fn learn_functions(&mut self, root: Node) {
        for _ in 0..3 {
            let mut stack = vec![root];
            while let Some(n) = stack.pop() {
                if n.kind() == "function_statement" {
                    let name = Self::named_children(n)
                        .into_iter()
                        .find(|c| c.kind() == "function_name")
                        .map(|c| self.src(c).to_ascii_lowercase());
                    let mut inner = vec![n];
                    let mut found = None;
                    while let Some(m) = inner.pop() {
                        if m.kind() == "flow_control_statement"
                            && self.src(m).starts_with("return")
                            && let Some(p) = Self::named_children(m).first()
                        {
                            found = found.or(self.infer(*p));
                        }
                        inner.extend(Self::named_children(m));
                    }
                    if let (Some(name), Some(ty)) = (name, found) {
                        self.functions.insert(name, ty);
                    }
                }
                stack.extend(Self::named_children(n));
            }
        }
    }

    /// The type of an expression, where it follows from the model.
    fn infer(&self, n: Node) -> Option<Ty> {
        let n = Self::unwrap(n);
        match n.kind() {
            "variable" => self.vars.get(&self.var_name(n)).cloned(),
            "parenthesized_expression" | "sub_expression" => {
                Self::named_children(n).first().and_then(|c| self.infer(*c))
            }
            "array_expression" => {
                let inner = Self::named_children(n)
                    .first()
                    .and_then(|c| self.infer(*c))?;
                Some(Ty {
                    name: inner.name,
                    many: true,
                })
            }
            "cast_expression" => {
                let kids = Self::named_children(n);
                let ty = self.type_literal(kids[0]);
                Some(ty)
            }
            "member_access" => {
                let kids = Self::named_children(n);
                let obj = self.infer(kids[0])?;
                let name = self.src(*kids.last()?);
                self.property(&obj, name).ok().flatten()
            }
            "element_access" => {
                let kids = Self::named_children(n);
                self.infer(kids[0]).map(|t| t.one())
            }
            "pipeline_chain" => {
                // `cmd | Where-Object {..} | Sort-Object ...` keeps the head's type.
                let kids = Self::named_children(n);
                let filters_only = kids.iter().skip(1).all(|c| {
                    c.kind() == "command" && {
                        let name = self.command_name(*c).to_ascii_lowercase();
                        name == "where-object" || name == "sort-object"
                    }
                });
                if filters_only {
                    kids.first().and_then(|c| self.infer(*c))
                } else {
                    None
                }
            }
            "command" => {
                let name = self.command_name(n);
                if let Some(c) = cmdlet(&name) {
                    let ret = c["returns"].as_str()?;
                    let mut ty = Ty::parse(ret);
                    ty.many |= c["returns_many"].as_bool().unwrap_or(false);
                    return Some(ty);
                }
                if name.eq_ignore_ascii_case("New-Object") {
                    let args = self.arguments(n);
                    let (_, v) = args
                        .iter()
                        .find(|(p, _)| p.eq_ignore_ascii_case("TypeName"))?;
                    let full = self.src((*v)?).trim_matches(['\'', '"']);
                    return key_of_full_name(full).map(|k| Ty::parse(&k));
                }
                self.functions.get(&name.to_ascii_lowercase()).cloned()
            }
            _ => None,
        }
    }

    /// `Ok(Some(type))` for a property the model has, `Ok(None)` where the model does not
    /// say (a system type, an enum), `Err` for a property a model type lacks.
    fn property(&self, obj: &Ty, name: &str) -> Result<Option<Ty>, String> {
        if !is_class(&obj.name) {
            return Ok(None);
        }
        // A collection's own members.
        if obj.many && (name.eq_ignore_ascii_case("Count") || name.eq_ignore_ascii_case("Length")) {
            return Ok(None);
        }
        let props = MODEL["types"][&obj.name]
            .as_object()
            .ok_or("no properties")?;
        match ci_get(props, name) {
            Some((_, t)) => {
                let mut ty = Ty::parse(t.as_str().unwrap_or(""));
                ty.many |= obj.many;
                Ok(Some(ty))
            }
            None => Err(format!("{} has no property {name}", obj.name)),
        }
    }

    fn command_name(&self, n: Node) -> String {
        n.child_by_field_name("command_name")
            .map(|c| self.src(c).to_string())
            .unwrap_or_default()
    }

    /// `-Name value` pairs of a command (a switch has no value).
    fn arguments<'a>(&self, n: Node<'a>) -> Vec<(String, Option<Node<'a>>)> {
        let Some(elements) = n.child_by_field_name("command_elements") else {
            return Vec::new();
        };
        let kids: Vec<Node> = Self::named_children(elements)
            .into_iter()
            .filter(|k| k.kind() != "command_argument_sep")
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < kids.len() {
            if kids[i].kind() == "command_parameter" {
                let name = self.src(kids[i]).trim_start_matches('-').to_string();
                let value = kids
                    .get(i + 1)
                    .filter(|k| k.kind() != "command_parameter")
                    .copied();
                if value.is_some() {
                    i += 1;
                }
                out.push((name, value));
            }
            i += 1;
        }
        out
    }

    fn check_command(&mut self, n: Node) {
        let name = self.command_name(n);
        let lower = name.to_ascii_lowercase();
        let is_dt = lower
            .split_once('-')
            .is_some_and(|(verb, noun)| !verb.is_empty() && noun.starts_with("dt"));
        if !is_dt {
            return;
        }
        let Some(c) = cmdlet(&name) else {
            self.err(n, format!("{name} is not a cmdlet of the model"));
            return;
        };
        let params = c["parameters"].as_object().cloned().unwrap_or_default();
        let aliases = c["aliases"].as_object().cloned().unwrap_or_default();
        let mut given: Vec<String> = Vec::new();
        for (p, value) in self.arguments(n) {
            let canonical = ci_get(&params, &p)
                .map(|(k, _)| k.to_string())
                .or_else(|| ci_get(&aliases, &p).and_then(|(_, v)| v.as_str().map(str::to_string)));
            let Some(canonical) = canonical else {
                self.err(n, format!("{name} has no parameter -{p}"));
                continue;
            };
            if let (Some(v), Some(pt)) = (value, params.get(&canonical).and_then(Value::as_str)) {
                let pt = Ty::parse(pt);
                if let Some(at) = self.infer(v)
                    && (is_class(&pt.name) || enum_members(&pt.name).is_some())
                    && (is_class(&at.name) || enum_members(&at.name).is_some())
                    && !assignable(&at, &pt)
                {
                    self.err(
                        n,
                        format!(
                            "{name} -{canonical} takes a {}, but {} is a {}",
                            pt.name,
                            self.src(v),
                            at.name
                        ),
                    );
                }
            }
            given.push(canonical);
        }
        // Piped into: the pipeline binds its parameters.
        let piped = n.prev_named_sibling().is_some();
        let has = |p: &str| given.iter().any(|g| g.eq_ignore_ascii_case(p));
        let bound_by_pipe = |p: &str| piped && c["pipeline"].get(p).is_some();
        let mandatory_of = |set: &Value| -> Vec<String> {
            set["mandatory"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        match c["sets"].as_object() {
            Some(sets) => {
                let fits = sets.iter().any(|(_, set)| {
                    let allowed: Vec<String> = mandatory_of(set)
                        .into_iter()
                        .chain(
                            set["optional"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str().map(str::to_string)),
                        )
                        .collect();
                    mandatory_of(set).iter().all(|m| has(m) || bound_by_pipe(m))
                        && given
                            .iter()
                            .all(|g| allowed.iter().any(|a| a.eq_ignore_ascii_case(g)))
                });
                if !fits {
                    self.err(
                        n,
                        format!(
                            "{name} {}: no parameter set of the model has all its mandatory parameters here ({})",
                            given.iter().map(|g| format!("-{g}")).collect::<Vec<_>>().join(" "),
                            sets.iter()
                                .map(|(k, s)| format!("{k}: {}", mandatory_of(s).join(", ")))
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    );
                }
            }
            None => {
                for m in mandatory_of(c) {
                    if !has(&m) && !bound_by_pipe(&m) {
                        self.err(n, format!("{name} lacks its mandatory -{m}"));
                    }
                }
            }
        }
        // An asynchronous cmdlet's token is kept and waited on.
        if c["returns"].as_str() == Some("ActivityToken") {
            let assigned = assignment_target(n).map(|v| self.var_name(v));
            match assigned {
                None => self.err(
                    n,
                    format!("{name} returns an ActivityToken, and it is not kept: nothing waits for the action"),
                ),
                Some(var) => {
                    let rest = &self.text[n.end_byte()..].to_ascii_lowercase();
                    let waited = [format!("-token ${var}"), format!("-action ${var}")]
                        .iter()
                        .any(|w| rest.contains(w.as_str()));
                    if !waited {
                        self.err(
                            n,
                            format!("{name}'s ActivityToken ${var} is never waited on (-Token or -Action)"),
                        );
                    }
                }
            }
        }
    }

    /// Reads: every property path from a typed variable must resolve.
    fn check_path(&mut self, n: Node) {
        let kids = Self::named_children(n);
        let Some(obj) = kids.first() else { return };
        let Some(member) = kids.last() else { return };
        if let Some(ty) = self.infer(*obj)
            && let Err(e) = self.property(&ty, self.src(*member))
        {
            let path = self.src(n).to_string();
            self.err(n, format!("{path}: {e}"));
        }
    }

    fn check_write(&mut self, left: Node, value: Node) {
        let left = Self::unwrap(left);
        if left.kind() != "member_access" {
            return;
        }
        let kids = Self::named_children(left);
        let (Some(obj), Some(member)) = (kids.first(), kids.last()) else {
            return;
        };
        let Some(ty) = self.infer(*obj) else { return };
        let name = self.src(*member).to_string();
        if is_readonly(&ty.name, &name) {
            self.err(left, format!("{}.{name} is read-only", ty.name));
        }
        let Ok(Some(pt)) = self.property(&ty, &name) else {
            return;
        };
        let Some(members) = enum_members(&pt.name) else {
            return;
        };
        let v = Self::unwrap(value);
        if v.kind() == "string_literal" || v.kind() == "expandable_string_literal" {
            let lit = self.src(v).trim_matches(['\'', '"']);
            let ok = lit
                .split(',')
                .all(|part| members.keys().any(|m| m.eq_ignore_ascii_case(part.trim())));
            if !ok {
                self.err(
                    left,
                    format!(
                        "'{lit}' is no member of {} ({})",
                        pt.name,
                        members.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }

    /// What goes into a document for ConvertTo-Json is formatted: 5.1 writes a
    /// DateTimeOffset or TimeSpan as an object and an enum as a number.
    fn check_hash_entry(&mut self, n: Node) {
        let kids = Self::named_children(n);
        let Some(value) = kids.get(1) else { return };
        let Some(ty) = self.infer(*value) else { return };
        let problem = match ty.name.as_str() {
            "DateTimeOffset" => Some("a DateTimeOffset: format it with .ToString('o')"),
            "TimeSpan" => Some("a TimeSpan: write its .TotalSeconds"),
            t if enum_members(t).is_some() => Some("an enum: write its name with [string]"),
            _ => None,
        };
        if let Some(p) = problem {
            let key = self.src(kids[0]).to_string();
            self.err(
                n,
                format!("{key} is {p}; Windows PowerShell 5.1's ConvertTo-Json would not write it readably"),
            );
        }
    }

    fn walk(&mut self, n: Node) {
        match n.kind() {
            "script_parameter" => {
                let kids = Self::named_children(n);
                let var = kids.iter().find(|k| k.kind() == "variable").copied();
                let mut stack = kids.clone();
                let mut ty = None;
                while let Some(k) = stack.pop() {
                    if k.kind() == "type_literal" {
                        ty = Some(self.type_literal(k));
                    }
                    stack.extend(Self::named_children(k));
                }
                if let (Some(v), Some(t)) = (var, ty) {
                    let name = self.var_name(v);
                    self.vars.insert(name, t);
                }
            }
            "foreach_statement" => {
                // foreach ($x in <collection>): $x is an element.
                let kids = Self::named_children(n);
                if let (Some(var), Some(coll)) = (
                    kids.iter().find(|k| k.kind() == "variable"),
                    kids.iter()
                        .find(|k| k.kind() != "variable" && k.kind() != "statement_block"),
                ) && let Some(t) = self.infer(*coll)
                {
                    let name = self.var_name(*var);
                    self.vars.insert(name, t.one());
                }
            }
            "assignment_expression" => {
                let left = n.child(0).expect("left side");
                let value = n.child_by_field_name("value").expect("value");
                // The right side first: it is evaluated before the assignment.
                self.walk(value);
                self.walk_children_of(left);
                self.check_write(left, value);
                let l = Self::unwrap(left);
                let (var, declared) = match l.kind() {
                    "variable" => (Some(l), None),
                    "cast_expression" => {
                        let kids = Self::named_children(l);
                        (
                            kids.iter()
                                .map(|k| Self::unwrap(*k))
                                .find(|k| k.kind() == "variable"),
                            Some(self.type_literal(kids[0])),
                        )
                    }
                    _ => (None, None),
                };
                if let Some(v) = var {
                    let name = self.var_name(v);
                    match declared.or_else(|| self.infer(value)) {
                        Some(t) => {
                            self.vars.insert(name, t);
                        }
                        None => {
                            self.vars.remove(&name);
                        }
                    }
                }
                return;
            }
            "command" => self.check_command(n),
            "member_access" => {
                let parent_is_path = n.parent().is_some_and(|p| {
                    matches!(p.kind(), "member_access" | "invokation_expression")
                        && p.named_child(0) == Some(n)
                });
                if !parent_is_path {
                    self.check_path(n);
                }
            }
            "invokation_expression" => {
                // The object a method is called on must resolve.
                if let Some(obj) = n.named_child(0)
                    && Self::unwrap(obj).kind() == "member_access"
                {
                    self.check_path(Self::unwrap(obj));
                }
            }
            "hash_entry" => self.check_hash_entry(n),
            _ => {}
        }
        self.walk_children_of(n);
    }

    fn walk_children_of(&mut self, n: Node) {
        for c in Self::named_children(n) {
            self.walk(c);
        }
    }
}

/// The variable a command's value is assigned to, when it is.
fn assignment_target(n: Node) -> Option<Node> {
    let mut cur = n;
    while let Some(p) = cur.parent() {
        match p.kind() {
            "pipeline" | "pipeline_chain" => cur = p,
            "assignment_expression" => {
                let left = Checker::unwrap(p.child(0)?);
                return match left.kind() {
                    "variable" => Some(left),
                    "cast_expression" => left
                        .named_children(&mut left.walk())
                        .map(Checker::unwrap)
                        .find(|k| k.kind() == "variable"),
                    _ => None,
                };
            }
            _ => return None,
        }
    }
    None
}

/// A script's text parsed and walked by the checker: what it resolved and every defect.
fn walked(text: &str) -> Checker<'_> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser.parse(text, None).expect("a tree");
    let mut c = Checker::new(text);
    if tree.root_node().has_error() {
        c.errors.push("the script does not parse".into());
        return c;
    }
    c.learn_functions(tree.root_node());
    c.walk(tree.root_node());
    c
}

/// Every defect the model shows in a script's text.
fn check(text: &str) -> Vec<String> {
    walked(text).errors
}

#[test]
fn the_model_should_be_the_one_of_the_guides_build() {
    assert_eq!(MODEL["versions"]["model"], "8.1.0.677");
    assert_eq!(
        MODEL["cmdlets"].as_object().map(serde_json::Map::len),
        Some(105)
    );
}

#[test]
fn every_generated_script_should_conform_to_the_model() {
    let mut all = BTreeMap::new();
    for kind in ScriptKind::all() {
        let errors = check(&script(kind).text);
        if !errors.is_empty() {
            all.insert(kind.as_str(), errors);
        }
    }
    assert!(all.is_empty(), "{all:#?}");
}

#[test]
fn the_checker_should_see_the_scripts_dt_calls() {
    // A checker that saw nothing would pass everything: count what it resolved.
    let text = &script(ScriptKind::Act(galaxy_ha::model::ActionKind::Failover)).text;
    let c = walked(text);
    assert_eq!(
        c.functions
            .get("connect-doubletake")
            .map(|t| t.name.as_str()),
        Some("Server")
    );
    assert_eq!(
        c.vars.get("failover").map(|t| t.name.as_str()),
        Some("FailoverOptions")
    );
    assert_eq!(
        c.vars.get("recommended").map(|t| t.name.as_str()),
        Some("RecommendedFailoverOptions")
    );
}

#[test]
fn the_checker_should_see_the_snapshot_names() {
    // The snapshot names are checked only where the checker knows the objects' types.
    let typed = |kind: ScriptKind| walked(&script(kind).text).vars;
    let observe = typed(ScriptKind::Observe);
    assert_eq!(
        observe.get("snap").map(|t| t.name.as_str()),
        Some("SnapshotEntry")
    );
    assert_eq!(
        observe.get("schedule").map(|t| t.name.as_str()),
        Some("SnapshotSchedule")
    );
    let failover = typed(ScriptKind::Act(galaxy_ha::model::ActionKind::Failover));
    assert_eq!(
        failover.get("snapshot"),
        Some(&Ty {
            name: "SnapshotEntry".into(),
            many: true
        })
    );
    let capture = typed(ScriptKind::Capture);
    assert_eq!(
        capture.get("entries").map(|t| t.name.as_str()),
        Some("SnapshotEntry")
    );
}

#[test]
fn the_snapshot_names_at_the_wrong_place_should_be_caught() {
    assert_caught(
        "$x = $job.Options.CoreConnectionOptions.SnapshotSchedule",
        &["CoreConnectionOptions has no property SnapshotSchedule"],
    );
    assert_caught(
        "$s = $job.Options.CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule\n$s.MaxSnapshots = 5",
        &["SnapshotSchedule has no property MaxSnapshots"],
    );
    assert_caught(
        "$job.Options.CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule.Enabled = $true",
        &["SnapshotSchedule has no property Enabled"],
    );
    assert_caught(
        "$rec.FailoverOptions.FailoverMode = 'Snapshots'",
        &["'Snapshots' is no member of FailoverMode"],
    );
    assert_caught(
        "$rec.FailoverOptions.SnapshotGuid = $null",
        &["FailoverOptions has no property SnapshotGuid"],
    );
    assert_caught(
        "$s = @(Get-DtSnapshots -ServiceHost $server -JobId $job.Id)",
        &["Get-DtSnapshots", "not a cmdlet"],
    );
    assert_caught(
        "$s = @(Get-DtSnapshot -ServiceHost $server)",
        &["Get-DtSnapshot", "no parameter set"],
    );
    let snap = "foreach ($snap in @(Get-DtSnapshot -ServiceHost $server -JobId $job.Id)) {\n";
    assert_caught(
        &format!("{snap}$d = [pscustomobject]@{{ state = [string]$snap.State }}\n}}"),
        &["SnapshotEntry has no property State"],
    );
    assert_caught(
        &format!("{snap}$d = [pscustomobject]@{{ at = $snap.Timestamp }}\n}}"),
        &["at is a DateTimeOffset"],
    );
    assert_caught(
        &format!("{snap}$d = [pscustomobject]@{{ states = $snap.States }}\n}}"),
        &["states is an enum"],
    );
    assert_caught(
        "$s = $job.Options.CoreConnectionOptions.ConnectionStartParameters.SnapshotSchedule\n$d = [pscustomobject]@{ every = $s.Interval }",
        &["every is a TimeSpan"],
    );
    // Written as the scripts write them, they pass.
    assert_eq!(
        broken(&format!(
            "{snap}$d = [pscustomobject]@{{ id = [string]$snap.Id; at = $snap.Timestamp.ToString('o'); states = [string]$snap.States; reason = [string]$snap.Reason }}\n}}\n$rec.FailoverOptions.FailoverMode = 'Snapshot'\n$rec.FailoverOptions.SnapshotId = $snap.Id"
        )),
        Vec::<String>::new()
    );
}

/// A broken script's defects, with the helpers that give its variables their types.
fn broken(body: &str) -> Vec<String> {
    let text = format!(
        "$server = New-DtServer -Name 'a'\n$job = @(Get-DtJob -ServiceHost $server)[0]\n$mail = Get-DtEmailNotificationOptions -ServiceHost $server\n$rec = Get-DtRecommendedFailoverOptions -ServiceHost $server -JobId $job.Id\n{body}\n"
    );
    check(&text)
}

fn assert_caught(body: &str, words: &[&str]) {
    let errors = broken(body);
    assert!(
        errors.iter().any(|e| words.iter().all(|w| e.contains(w))),
        "not caught: {body}\nerrors: {errors:#?}"
    );
}

#[test]
fn the_helpers_of_the_broken_scripts_should_themselves_conform() {
    assert_eq!(broken(""), Vec::<String>::new());
}

#[test]
fn a_cmdlet_not_in_the_model_should_be_caught() {
    assert_caught(
        "$x = Get-DtJobs -ServiceHost $server",
        &["Get-DtJobs", "not a cmdlet"],
    );
}

#[test]
fn a_parameter_the_cmdlet_lacks_should_be_caught() {
    // The e-mail options' parameter is -Options.
    assert_caught(
        "Set-DtEmailNotificationOptions -ServiceHost $server -EmailNotificationOptions $mail",
        &["-EmailNotificationOptions"],
    );
}

#[test]
fn a_missing_mandatory_parameter_should_be_caught() {
    assert_caught(
        "$t = Start-DtJobFailover -ServiceHost $server -JobId $job.Id\n$null = Get-DtJobActionStatus -ServiceHost $server -Action $t",
        &["Start-DtJobFailover", "FailoverOptions"],
    );
    assert_caught("$w = Get-DtWorkload -ServiceHost $server", &["WorkloadId"]);
}

#[test]
fn the_monitor_settings_at_the_wrong_place_should_be_caught() {
    for path in [
        "$job.Options.CoreMonitorOptions.MonitorConfiguration.PingInterval",
        "$job.Options.CoreMonitorOptions.MonitorConfiguration.TotalTimeAllowed",
        "$job.Options.CoreMonitorOptions.MonitorConfiguration.MissedPacketsCount",
        "$job.Options.CoreMonitorOptions.MonitorConfiguration.UseMissedPackets",
    ] {
        assert_caught(
            &format!("$x = {path}"),
            &["MonitorConfiguration has no property"],
        );
        assert_caught(
            &format!("{path} = 5"),
            &["MonitorConfiguration has no property"],
        );
    }
    // Followed through a variable.
    assert_caught(
        "$config = $job.Options.CoreMonitorOptions.MonitorConfiguration\n$config.PingInterval = [TimeSpan]::FromSeconds(10)",
        &["no property PingInterval"],
    );
}

#[test]
fn the_failover_options_at_the_wrong_place_should_be_caught() {
    assert_caught(
        "$rec.FailoverType = 'Live'",
        &["RecommendedFailoverOptions has no property FailoverType"],
    );
    assert_caught(
        "$t = Start-DtJobFailover -ServiceHost $server -JobId $job.Id -FailoverOptions $rec\nWait-It -Token $t",
        &[
            "-FailoverOptions takes a FailoverOptions",
            "RecommendedFailoverOptions",
        ],
    );
    assert_caught(
        "$rec.FailoverOptions.FailoverDataAction = 'Discard'",
        &["'Discard' is no member of FailoverDataAction"],
    );
    assert_caught(
        "$rec.FailoverOptions.FailoverMode = 'Manual'",
        &["'Manual' is no member of FailoverMode"],
    );
}

#[test]
fn the_e_mail_names_from_memory_should_be_caught() {
    for name in [
        "EmailServer",
        "EmailServerPort",
        "EncryptionType",
        "FromAddress",
        "Recipients",
        "AddEventDescriptionToSubject",
        "IncludeCategories",
        "ExcludedEventIds",
    ] {
        assert_caught(
            &format!("$mail.{name} = 'x'"),
            &["EmailNotificationOptions has no property", name],
        );
    }
    assert_caught(
        "$mail.ConnectionSecurity = 'starttls'",
        &["'starttls' is no member of SmtpConnectionSecurity"],
    );
    assert_caught(
        "$mail.ConnectionSecurity = 'none'",
        &["'none' is no member"],
    );
}

#[test]
fn a_write_to_a_read_only_property_should_be_caught() {
    assert_caught("$server.HostName = 'b'", &["Server.HostName is read-only"]);
}

#[test]
fn an_asynchronous_call_not_waited_on_should_be_caught() {
    assert_caught(
        "Remove-DtJob -ServiceHost $server -JobId $job.Id",
        &["ActivityToken", "not kept"],
    );
    assert_caught(
        "$t = Start-DtJob -ServiceHost $server -JobId $job.Id",
        &["never waited on"],
    );
    assert_caught(
        "$v = Confirm-DtJobOptions -ServiceHost $server -JobId $job.Id -JobOptions $job.Options",
        &["Confirm-DtJobOptions", "never waited on"],
    );
}

#[test]
fn dates_spans_and_enums_left_to_convertto_json_should_be_caught() {
    let conn = "$conn = $job.Statistics.CoreConnectionDetails\n";
    assert_caught(
        &format!("{conn}$d = [pscustomobject]@{{ startTime = $conn.StartTime }}"),
        &["startTime is a DateTimeOffset"],
    );
    assert_caught(
        "$s = @($job.Statistics.CoreMonitorDetails.MonitoredAddressStatuses)[0]\n$d = [pscustomobject]@{ remaining = $s.RemainingTime }",
        &["remaining is a TimeSpan"],
    );
    assert_caught(
        "$d = [pscustomobject]@{ state = $job.Status.HighLevelState }",
        &["state is an enum"],
    );
    // Formatted, they pass.
    assert_eq!(
        broken(&format!(
            "{conn}$d = [pscustomobject]@{{ startTime = $conn.StartTime.ToString('o'); state = [string]$job.Status.HighLevelState }}"
        )),
        Vec::<String>::new()
    );
}

/// Every command a script names, as written.
fn commands(text: &str) -> Vec<String> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar");
    let tree = parser.parse(text, None).expect("tree");
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == "command"
            && let Some(name) = n.child_by_field_name("command_name")
        {
            out.push(text[name.byte_range()].to_string());
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    out
}

#[test]
fn observe_doctor_and_capture_should_call_only_read_only_cmdlets() {
    // What only reads, or only touches the script's own session.
    let session = [
        "New-DtServer",
        "Disconnect-DtServer",
        "New-Object",
        "Start-Sleep",
        "Remove-TypeData",
        "Import-Module",
        "Invoke-Command",
        "New-PSSession",
        "Remove-PSSession",
        "Add-Check",
    ];
    let writes = [
        "set-", "new-", "remove-", "start-", "stop-", "edit-", "undo-", "enable-", "disable-",
        "restart-", "clear-", "confirm-", "test-dt",
    ];
    for kind in [ScriptKind::Observe, ScriptKind::Doctor, ScriptKind::Capture] {
        let text = &script(kind).text;
        let cmds = commands(text);
        assert!(
            cmds.iter().any(|c| c.eq_ignore_ascii_case("Get-DtJob")) || kind == ScriptKind::Doctor
        );
        for c in cmds {
            if session.iter().any(|s| s.eq_ignore_ascii_case(&c)) {
                continue;
            }
            let lower = c.to_ascii_lowercase();
            assert!(
                !writes.iter().any(|w| lower.starts_with(w)),
                "{}: {c} may change the host",
                kind.as_str()
            );
        }
    }
}

#[test]
fn no_script_should_delete_a_file() {
    for kind in ScriptKind::all() {
        for c in commands(&script(kind).text) {
            let lower = c.to_ascii_lowercase();
            assert!(
                lower != "remove-item"
                    && lower != "del"
                    && lower != "rm"
                    && lower != "remove-vmharddiskdrive",
                "{}: {c}",
                kind.as_str()
            );
        }
    }
}
