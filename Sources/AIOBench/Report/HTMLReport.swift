import AsyncIO
import Foundation

/// The sweep report as one self-contained HTML file: inline CSS, inline SVG and a few lines of inline script
/// for the copy button; nothing is fetched from anywhere.
///
/// Per operation it draws one heatmap per pair of submit mode and overlap mode: rows are `io_parallel`,
/// columns block size × queue depth, the colour of a cell is its median GiB/s on one scale per operation.
/// Each heatmap cell is a `<td class="cell">` (the fastest of an operation `class="cell best"`) with
/// `data-op`, `data-config` (`ReportRow.configuration`) and `data-gibps` (the median, empty when it failed).
enum HTMLReport {
    /// Renders the report.
    static func render(_ input: ReportInput) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(input.title))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header><h1>\(escape(input.title))</h1>
            <p class="sub">Speeds in GiB/s (2<sup>30</sup> bytes per second; DeepSpeed prints the same figure as
            &ldquo;GB/sec&rdquo;). Each cell shows the median over its trials.</p></header>

            """
        html += HTMLEffects.section(input.race)
        html += overview(input)
        for operation in IOOperation.allCases where !input.rows(for: operation).isEmpty {
            html += section(input, operation)
        }
        html += configSection(input)
        html += listSection("Machine", input.machine)
        html += listSection("Device", input.device)
        html += "<script>\(script)</script>\n</body>\n</html>\n"
        return html
    }

    // MARK: - Sections

    /// The best figure per operation, its share of the device ceiling, and a warning for figures above it.
    private static func overview(_ input: ReportInput) -> String {
        var html = "<section class=\"overview\">\n"
        for operation in IOOperation.allCases {
            guard let best = input.ranking(for: operation).first, let median = best.median else { continue }
            html += "<div class=\"card\"><div class=\"card-title\">Best \(operation.rawValue)</div>"
            html += "<div class=\"card-value\">\(format(median)) <span class=\"unit\">GiB/s</span></div>"
            if let ceiling = input.ceilingGiBps {
                let percent = median / ceiling * 100
                html += "<div class=\"card-note\">\(String(format: "%.0f", percent)) % of the device ceiling"
                    + " (\(format(ceiling)) GiB/s)</div>"
            }
            html += "<div class=\"card-config\">\(escape(best.label))</div></div>\n"
        }
        if let ceiling = input.ceilingGiBps {
            let above = IOOperation.allCases.flatMap(input.rows(for:)).filter(input.isAboveCeiling)
            if !above.isEmpty {
                html += "<div class=\"warning\" role=\"alert\"><strong>&#9888; \(above.count) result"
                    + "\(above.count == 1 ? " is" : "s are") above the device ceiling of \(format(ceiling)) GiB/s."
                    + "</strong> The hardware cannot carry that much: such a figure is a measurement error, most"
                    + " likely reads served from the page cache (O_DIRECT not used or the cache not dropped) or"
                    + " a sparse or short file. Marked &#9888; below.</div>\n"
            }
        } else {
            html += "<div class=\"card-note nolimit\">No device ceiling known: results cannot be checked"
                + " against the hardware limit.</div>\n"
        }
        return html + "</section>\n"
    }

    /// The recommended `"aio"` section with a copy button.
    private static func configSection(_ input: ReportInput) -> String {
        var html = "<section class=\"config\"><h2>Recommended DeepSpeed configuration</h2>\n"
        guard let json = input.recommendedJSON, !json.isEmpty else {
            return html + "<p>No recommendation: no configuration has both a read and a write result.</p>"
                + "</section>\n"
        }
        html += "<p>Paste into the <code>\"aio\"</code> section of the DeepSpeed config."
        html += " <button type=\"button\" id=\"copy\">Copy</button></p>\n"
        html += "<pre id=\"aio-json\">\(escape(json))</pre>\n</section>\n"
        return html
    }

    /// A heading and its lines.
    private static func listSection(_ title: String, _ lines: [String]) -> String {
        guard !lines.isEmpty else { return "" }
        var html = "<section class=\"facts\"><h2>\(escape(title))</h2>\n<ul>\n"
        for line in lines { html += "<li>\(escape(line))</li>\n" }
        return html + "</ul></section>\n"
    }

    // MARK: - Pieces

    /// Text made safe for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A speed with two decimals, three below 0.1, none at 100 and above.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude < 0.1 && magnitude > 0 { return String(format: "%.3f", value) }
        return String(format: "%.2f", value)
    }

    // MARK: - Style and script

    private static let style = """

        :root{--ink:#1d2330;--muted:#5b6475;--line:#d5dae3;--bg:#f6f7f9}
        *{box-sizing:border-box}
        body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
          color:var(--ink);background:var(--bg)}
        h1{font-size:24px;margin:0 0 4px;overflow-wrap:anywhere}
        h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
        h3{font-size:15px;margin:22px 0 8px}
        .sub{color:var(--muted);margin:0 0 16px}
        section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 20px 18px;margin:16px 0}
        .overview{display:flex;flex-wrap:wrap;gap:14px;padding:16px 20px;align-items:stretch}
        .card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:260px;max-width:420px}
        .card-title{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
        .card-value{font-size:26px;font-weight:600}
        .card-value .unit{font-size:14px;font-weight:400;color:var(--muted)}
        .card-note{color:var(--muted)}
        .card-config{font-size:12px;color:var(--muted);overflow-wrap:anywhere}
        .nolimit{align-self:center}
        .warning{flex-basis:100%;background:#fff3cd;border:1px solid #e0b000;border-left:6px solid #d39e00;
          border-radius:6px;padding:10px 14px;color:#5c4400}
        .legend{display:flex;flex-wrap:wrap;align-items:center;gap:10px 16px;margin:6px 0 4px}
        .legend-title{font-weight:600}
        .legend-marks{color:var(--muted);font-size:12px}
        .bar text{font-size:11px;fill:#333}
        .mark{display:inline-block;padding:0 6px;border-radius:3px;background:#eee}
        .best-mark{box-shadow:inset 0 0 0 2px #111,inset 0 0 0 4px #fff}
        .maps{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:14px 28px}
        .heatmap{margin:10px 0 0;overflow-x:auto}
        figcaption{margin:0 0 6px}
        figcaption span{color:var(--muted);font-size:12px;margin-left:6px}
        table.map{border-collapse:separate;border-spacing:3px}
        table.map th{font-weight:500;color:var(--muted);font-size:12px;white-space:nowrap}
        table.map th.bs{color:var(--ink);font-weight:600;border-bottom:1px solid var(--line)}
        table.map th.par{text-align:right;padding-right:8px;color:var(--ink);font-weight:600}
        table.map th.corner{text-align:left;vertical-align:bottom;font-size:11px;line-height:1.25;padding-right:8px}
        table.map th.corner span{display:block;font-weight:400;color:#8a92a3}
        td.cell,td.none{min-width:82px;height:46px;text-align:center;border-radius:4px;padding:3px 6px;
          font-variant-numeric:tabular-nums}
        td.cell .v{display:block;font-size:15px;font-weight:600;line-height:1.2}
        td.cell .r{display:block;font-size:10.5px;opacity:.85;line-height:1.2}
        td.cell.best{box-shadow:inset 0 0 0 3px #111,inset 0 0 0 5px #fff}
        td.cell[data-error]{background:repeating-linear-gradient(45deg,#eee,#eee 6px,#ddd 6px,#ddd 12px);color:#933}
        td.cell[data-over]{outline:2px dashed #c00;outline-offset:-2px}
        td.cell[data-left]{filter:grayscale(1);opacity:.45}
        td.cell .n{display:block;font-size:9.5px;opacity:.7;line-height:1.1}
        td.none{color:#aaa;background:#f1f2f4}
        .scroll{overflow-x:auto}
        table.top{border-collapse:collapse;font-variant-numeric:tabular-nums}
        table.top th,table.top td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left}
        table.top th{font-weight:600;font-size:12px;color:var(--muted)}
        table.top td.num{text-align:right}
        table.top tr.over td{background:#fff3cd}
        ul.failed li code{font-size:12px}
        pre{background:#0f1420;color:#e6e9ef;padding:12px 14px;border-radius:6px;overflow-x:auto;font-size:13px}
        button{font:inherit;padding:3px 12px;border:1px solid #889;border-radius:4px;background:#fff;cursor:pointer}
        .facts ul{margin:0;padding-left:18px}
        .decision .pick{font-size:16px;margin:8px 0 2px;overflow-wrap:anywhere}
        .decision .guarantee{margin:0 0 10px}
        svg.effects{max-width:100%;height:auto}
        .effects-note{color:var(--muted);font-size:12px}
        .facts li{overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}

        """

    private static let script = """

        (function(){var b=document.getElementById("copy"),p=document.getElementById("aio-json");
        if(!b||!p)return;function say(m){b.textContent=m;setTimeout(function(){b.textContent="Copy";},1500);}
        function select(){var r=document.createRange();r.selectNodeContents(p);var s=window.getSelection();
        s.removeAllRanges();s.addRange(r);try{document.execCommand("copy");say("Copied");}
        catch(e){say("Press Ctrl+C");}}
        b.addEventListener("click",function(){if(navigator.clipboard&&window.isSecureContext){
        navigator.clipboard.writeText(p.textContent).then(function(){say("Copied");},select);}else{select();}});
        })();

        """
}
