// The search page: loads Pagefind's index (/pagefind/) only here, only when asked, and
// lists the pages that match. The form ships disabled: this script enables it.
const form = document.querySelector("form.search-page");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
let pagefind = null;

function plain(html) {  // an excerpt as text (its <mark> tags dropped)
  return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
}

async function run(query) {
  list.replaceChildren();
  if (!query.trim()) {
    status.textContent = "Type a GPU, a provider, a country or a server name.";
    return;
  }
  status.textContent = "Searching…";
  try {
    if (!pagefind) {
      pagefind = await import("/pagefind/pagefind.js");
      // A GPU's or a server's own page is long (tables, links) but is the one a reader
      // means: page length counts for little here.
      await pagefind.options({ ranking: { pageLength: 0.1 } });
    }
    const search = await pagefind.search(query);
    const shown = await Promise.all(search.results.slice(0, 20).map((r) => r.data()));
    for (const page of shown) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = page.url;
      link.textContent = (page.meta && page.meta.title) || page.url;
      const excerpt = document.createElement("p");
      excerpt.className = "note";
      excerpt.textContent = plain(page.excerpt);
      item.append(link, excerpt);
      list.append(item);
    }
    const total = search.results.length;
    status.textContent = total === 0 ? `Nothing found for “${query}”.`
      : `${total} page${total === 1 ? "" : "s"} found for “${query}”` + (total > 20 ? ", the best 20 shown." : ".");
  } catch (error) {
    status.textContent = "Search could not load its index: " + error.message + ".";
  }
  status.className = "note";
}

if (form) {
  for (const control of form.querySelectorAll("input, button")) control.disabled = false;
  const query = new URLSearchParams(location.search).get("q") || "";
  input.value = query;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    run(input.value);
  });
  run(query);
}
