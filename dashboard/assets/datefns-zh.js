// The date pickers' words in Chinese: Dash's date picker formats its weekday row (and any month name) with the
// date-fns locale it finds in window.dateFns.locale, else in English ("Mo Tu We …"). What the pickers show needs
// weekdays and months; the rest keeps date-fns' interface whole.
(function () {
  var weekdays = {
    narrow: ["日", "一", "二", "三", "四", "五", "六"],
    short: ["日", "一", "二", "三", "四", "五", "六"],
    abbreviated: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    wide: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
  };
  var numbers = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"];
  var months = {
    narrow: numbers.map(function (_n, i) { return String(i + 1); }),
    abbreviated: numbers.map(function (_n, i) { return (i + 1) + "月"; }),
    wide: numbers.map(function (n) { return n + "月"; }),
  };
  function pick(table) {
    return function (index, options) {
      var width = (options && options.width) || "wide";
      return (table[width] || table.wide)[index];
    };
  }
  var periods = { am: "上午", pm: "下午", midnight: "午夜", noon: "中午", morning: "早上", afternoon: "下午",
    evening: "晚上", night: "夜里" };
  var zh = {
    code: "zh-CN",
    localize: {
      ordinalNumber: function (n) { return String(n); },
      era: function (n) { return ["公元前", "公元"][n]; },
      quarter: function (n) { return "第" + numbers[n - 1] + "季度"; },  // date-fns passes 1 … 4
      month: pick(months),
      day: pick(weekdays),
      dayPeriod: function (period) { return periods[period] || period; },
    },
    formatLong: {
      date: function () { return "yyyy-MM-dd"; },
      time: function () { return "HH:mm:ss"; },
      dateTime: function () { return "{{date}} {{time}}"; },
    },
    formatDistance: function (_token, count) { return String(count); },
    formatRelative: function () { return "yyyy-MM-dd"; },
    match: {},
    options: { weekStartsOn: 1, firstWeekContainsDate: 4 },
  };
  window.dateFns = window.dateFns || {};
  window.dateFns.locale = Object.assign(window.dateFns.locale || {}, { "zh-CN": zh });
})();
