//! The routes of `template.yaml`: every `HttpApi` event of every function, with the
//! binary that serves it, matched as API Gateway HTTP APIs match them.

use yaml_rust2::YamlLoader;

/// One route: `METHOD /path/{param}` (or `$default`) served by `function`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `POST`, `GET`, ... or `ANY`.
    pub method: String,
    /// The path as declared, or `$default`.
    pub path: String,
    /// The binary (function) that serves it.
    pub function: String,
}

impl Route {
    /// API Gateway's route key: `POST /otp/{otp_uid}/verifyOTP`, or `$default`.
    pub fn key(&self) -> String {
        if self.path == "$default" {
            "$default".to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }
}

/// Reads the routes of a SAM template.
pub fn from_template(text: &str) -> Result<Vec<Route>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|error| format!("template.yaml: {error}"))?;
    let template = documents.first().ok_or("template.yaml is empty")?;
    let resources = template["Resources"]
        .as_hash()
        .ok_or("template.yaml has no Resources")?;
    let mut routes = Vec::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or_default();
        let function = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| format!("{name} names no Binary in Metadata.BuildProperties"))?;
        let Some(events) = resource["Properties"]["Events"].as_hash() else {
            continue;
        };
        for event in events.values() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let properties = &event["Properties"];
            let path = properties["Path"]
                .as_str()
                .ok_or_else(|| format!("an event of {name} has no Path"))?;
            let method = properties["Method"].as_str().unwrap_or("ANY").to_ascii_uppercase();
            routes.push(Route {
                method,
                path: path.to_owned(),
                function: function.to_owned(),
            });
        }
    }
    if routes.is_empty() {
        return Err("template.yaml declares no HttpApi routes".to_owned());
    }
    Ok(routes)
}

/// How one segment of a route matched: literal text beats a parameter beats a greedy one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Greedy,
    Parameter,
    Literal,
}

/// A match: the route and its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub route: &'a Route,
    pub parameters: Parameters,
}

/// Path parameters by name.
type Parameters = Vec<(String, String)>;

fn match_path(pattern: &str, path: &str) -> Option<(Vec<Segment>, Parameters)> {
    let pattern: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut kinds = Vec::new();
    let mut parameters = Vec::new();
    for (index, part) in pattern.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest = path.get(index..)?.join("/");
            if rest.is_empty() {
                return None;
            }
            kinds.push(Segment::Greedy);
            parameters.push((name.to_owned(), rest));
            return Some((kinds, parameters));
        }
        let actual = *path.get(index)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if actual.is_empty() {
                return None;
            }
            kinds.push(Segment::Parameter);
            parameters.push((name.to_owned(), actual.to_owned()));
        } else if *part == actual {
            kinds.push(Segment::Literal);
        } else {
            return None;
        }
    }
    (pattern.len() == path.len()).then_some((kinds, parameters))
}

/// The route API Gateway would pick: the most specific match of the method (or `ANY`), else
/// `$default`, else none (API Gateway's own 404).
pub fn find<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<Matched<'a>> {
    let mut best: Option<(Vec<Segment>, bool, Matched<'a>)> = None;
    for route in routes.iter().filter(|r| r.path != "$default") {
        let method_matches = route.method == method;
        if !method_matches && route.method != "ANY" {
            continue;
        }
        if let Some((kinds, parameters)) = match_path(&route.path, path) {
            let better = match &best {
                None => true,
                Some((best_kinds, best_exact, _)) => (&kinds, method_matches) > (best_kinds, *best_exact),
            };
            if better {
                best = Some((kinds, method_matches, Matched { route, parameters }));
            }
        }
    }
    best.map(|(_, _, matched)| matched).or_else(|| {
        routes.iter().find(|r| r.path == "$default").map(|route| Matched {
            route,
            parameters: Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template_routes() -> Vec<Route> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml")).unwrap();
        from_template(&text).unwrap()
    }

    #[test]
    fn the_template_declares_the_route_table_and_nothing_else() {
        // Each function dispatches on the event's route key from the shared route table:
        // a route of the template missing from it, or served by another function, would
        // reach a function that answers it 404.
        let routes = template_routes();
        let mut declared: Vec<(String, String)> = routes.iter().map(|r| (r.key(), r.function.clone())).collect();
        declared.sort();
        let mut table: Vec<(String, String)> = otp_shared::routes::ROUTES
            .iter()
            .map(|route| (route.key(), route.function.name().to_owned()))
            .collect();
        table.sort();
        assert_eq!(declared, table);
        assert_eq!(table.len(), 28);
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = template_routes();
        let pick = |path: &str| find(&routes, "POST", path).map(|m| (m.route.key(), m.parameters));
        assert_eq!(pick("/v1/otp").unwrap().0, "POST /v1/otp");
        assert_eq!(pick("/v1/otp/verify").unwrap().0, "POST /v1/otp/verify");
        assert_eq!(
            pick("/v1/otp/").unwrap().0,
            "$default",
            "a final / reaches the default route"
        );
        let (key, parameters) = pick("/otp/abc/verifyOTP").unwrap();
        assert_eq!(key, "POST /otp/{otp_uid}/verifyOTP");
        assert_eq!(parameters, vec![("otp_uid".to_owned(), "abc".to_owned())]);
        assert_eq!(pick("/otp//verifyOTP").unwrap().0, "$default");
        assert_eq!(find(&routes, "GET", "/v1/otp").unwrap().route.key(), "$default");
    }

    #[test]
    fn greedy_parameters_and_api_gateways_own_404() {
        let routes = vec![
            Route {
                method: "ANY".into(),
                path: "/a/{rest+}".into(),
                function: "f".into(),
            },
            Route {
                method: "POST".into(),
                path: "/a/b".into(),
                function: "g".into(),
            },
        ];
        assert_eq!(find(&routes, "POST", "/a/b").unwrap().route.function, "g");
        let greedy = find(&routes, "GET", "/a/b/c").unwrap();
        assert_eq!(greedy.parameters, vec![("rest".to_owned(), "b/c".to_owned())]);
        assert!(find(&routes, "POST", "/z").is_none());
    }
}
