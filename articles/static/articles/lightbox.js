/*
 * Newsroom gallery lightbox: an enhancement of the gallery's links (articles/includes/_gallery.html).
 *
 * Without JavaScript each picture is a plain link to its largest version. With it, a click on any
 * a[data-lightbox] opens a native modal <dialog> (created here) showing that version, its caption and
 * credit, an "n / total" counter and previous/next buttons. Keyboard: ArrowLeft/ArrowRight navigate,
 * Home/End jump, Escape closes. Touch: swipe left/right (pointer events). A click beside the picture
 * closes. Focus moves into the dialog and returns to the link on close. Pictures from remote hosts are
 * requested with referrerpolicy="no-referrer".
 *
 * CSP-friendly: loaded with <script src defer>, no inline code or styles, no eval; styles in lightbox.css.
 */
(function () {
  "use strict";

  if (typeof HTMLDialogElement !== "function" || typeof HTMLDialogElement.prototype.showModal !== "function") {
    return; // old browser: the links keep opening the picture
  }

  var SWIPE_MIN = 50; // px of horizontal travel that make a swipe
  var CLICK_AFTER_SWIPE_MS = 400;

  var dialog, stage, figure, image, captionText, creditText, counter, prevButton, nextButton, closeButton;
  var links = [];
  var index = 0;
  var opener = null;
  var swipe = null;
  var swipedAt = 0;

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function button(className, label, symbol, onClick) {
    var node = make("button", "lightbox-button " + className, symbol);
    node.type = "button";
    node.setAttribute("aria-label", label);
    node.title = label;
    node.addEventListener("click", onClick);
    return node;
  }

  function build() {
    dialog = make("dialog", "lightbox");
    dialog.setAttribute("aria-label", "图片浏览");
    dialog.setAttribute("aria-describedby", "lightbox-caption");

    closeButton = button("lightbox-close", "关闭", "×", function () { dialog.close(); });
    prevButton = button("lightbox-prev", "上一张", "‹", function () { show(index - 1); });
    nextButton = button("lightbox-next", "下一张", "›", function () { show(index + 1); });

    stage = make("div", "lightbox-stage");
    figure = make("figure", "lightbox-figure");
    image = make("img", "lightbox-image");
    var caption = make("figcaption", "lightbox-caption");
    caption.id = "lightbox-caption";
    captionText = make("span", "lightbox-text");
    creditText = make("span", "lightbox-credit");
    caption.append(captionText, " ", creditText);
    figure.append(image, caption);
    stage.append(figure);

    counter = make("p", "lightbox-counter");
    counter.setAttribute("aria-live", "polite");

    // The close button comes first so it is where focus lands when the dialog opens.
    dialog.append(closeButton, stage, counter, prevButton, nextButton);
    document.body.append(dialog);

    dialog.addEventListener("keydown", onKeydown);
    dialog.addEventListener("click", onDialogClick);
    dialog.addEventListener("close", onClose);
    stage.addEventListener("pointerdown", onPointerDown);
    stage.addEventListener("pointerup", onPointerUp);
    stage.addEventListener("pointercancel", function () { swipe = null; });
  }

  function newImage(link) {
    var img = make("img", "lightbox-image");
    img.draggable = false; // a mouse drag is a swipe, not a drag of the picture
    if (link.dataset.remote) img.referrerPolicy = "no-referrer"; // before src: Chinese hosts refuse foreign referrers
    img.alt = link.dataset.alt || "";
    if (link.dataset.width && link.dataset.height) {
      img.width = Number(link.dataset.width);
      img.height = Number(link.dataset.height);
    }
    img.decoding = "async";
    img.src = link.href;
    return img;
  }

  function preload(link) {
    if (!link) return;
    var img = new Image();
    if (link.dataset.remote) img.referrerPolicy = "no-referrer";
    img.src = link.href;
  }

  function show(i) {
    var total = links.length;
    index = ((i % total) + total) % total;
    var link = links[index];
    var fresh = newImage(link);
    figure.replaceChild(fresh, image);
    image = fresh;
    captionText.textContent = link.dataset.caption || "";
    creditText.textContent = link.dataset.credit || "";
    counter.textContent = (index + 1) + " / " + total;
    prevButton.hidden = nextButton.hidden = total < 2;
    if (total > 1) {
      preload(links[(index + 1) % total]);
      preload(links[(index - 1 + total) % total]);
    }
  }

  function open(link) {
    if (!dialog) build();
    var group = link.getAttribute("data-lightbox");
    links = Array.prototype.filter.call(document.querySelectorAll("a[data-lightbox]"), function (candidate) {
      return candidate.getAttribute("data-lightbox") === group;
    });
    opener = link;
    show(links.indexOf(link));
    document.documentElement.classList.add("lightbox-open");
    dialog.showModal();
    closeButton.focus();
  }

  function onClose() {
    document.documentElement.classList.remove("lightbox-open");
    swipe = null;
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  }

  function onKeydown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var handled = true;
    switch (event.key) {
      case "ArrowLeft": show(index - 1); break;
      case "ArrowRight": show(index + 1); break;
      case "Home": show(0); break;
      case "End": show(links.length - 1); break;
      case "Escape": dialog.close(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  }

  function onDialogClick(event) {
    // Clicks on the ::backdrop or the empty area around the picture reach the dialog or the stage themselves.
    if (Date.now() - swipedAt < CLICK_AFTER_SWIPE_MS) return;
    if (event.target === dialog || event.target === stage || event.target === figure) dialog.close();
  }

  function onPointerDown(event) {
    if (!event.isPrimary || (event.pointerType === "mouse" && event.button !== 0)) return;
    swipe = { id: event.pointerId, x: event.clientX, y: event.clientY };
  }

  function onPointerUp(event) {
    if (!swipe || event.pointerId !== swipe.id) return;
    var dx = event.clientX - swipe.x;
    var dy = event.clientY - swipe.y;
    swipe = null;
    if (Math.abs(dx) < SWIPE_MIN || Math.abs(dx) < Math.abs(dy) * 1.5) return;
    swipedAt = Date.now();
    show(dx < 0 ? index + 1 : index - 1); // finger moves left: the next picture comes in from the right
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return; // let "open in new tab" and friends work as links
    }
    var link = event.target instanceof Element ? event.target.closest("a[data-lightbox]") : null;
    if (!link || (dialog && dialog.contains(link))) return;
    event.preventDefault();
    open(link);
  });
})();
